"""The persistent block cache (isa/block_cache.py): same numbers with and without it, keyed
by image, model and read path, and safe against bad or concurrent files."""

from __future__ import annotations

import pickle

import pytest

from mcusim.isa.block_cache import BlockCache, cache_directory
from tests.conftest import simulate


def _counts(elf, board, **kw):
    run = simulate(elf, board, **kw)
    return run.result.stop, run.result.instructions, run.result.cycles, run.stdout


@pytest.mark.parametrize("board,prog", [("nucleo-f446re", "conv3x3"),
                                        ("nucleo-f746zg", "branchy_small"),
                                        ("nucleo-g071rb", "fc"),
                                        ("nucleo-f103rb", "divide")])
def test_cached_runs_count_what_uncached_ones_do(kernels, tmp_path, monkeypatch, board, prog):
    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    elf = kernels / board / f"{prog}.elf"
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "0")
    uncached = _counts(elf, board)
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "1")
    filling = _counts(elf, board)
    files = list(tmp_path.glob("blocks-*.pickle"))
    assert len(files) == 1
    warm = _counts(elf, board)
    assert uncached == filling == warm
    # Another clock changes the flash read path, so it is another file, with its own numbers.
    other = _counts(elf, board, clock="16MHz")
    assert len(list(tmp_path.glob("blocks-*.pickle"))) == 2
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "0")
    assert other == _counts(elf, board, clock="16MHz")


def test_a_bad_cache_file_is_ignored_and_replaced(kernels, tmp_path, monkeypatch):
    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    elf = kernels / "nucleo-f446re" / "fc.elf"
    expected = _counts(elf, "nucleo-f446re")
    (path,) = tmp_path.glob("blocks-*.pickle")
    path.write_bytes(b"not a pickle")
    assert _counts(elf, "nucleo-f446re") == expected
    assert pickle.loads(path.read_bytes())["entries"]  # rewritten whole


def test_writers_merge_and_replace_atomically(tmp_path, monkeypatch):
    from mcusim.isa.timing import BlockTiming

    path = tmp_path / "blocks-x.pickle"
    first, second = BlockCache(path), BlockCache(path)
    first.put(0x100, b"\x00\xbf", ([], BlockTiming([1]), None))
    second.put(0x200, b"\x00\xbf", ([], BlockTiming([2]), None))
    first.save()
    second.save()  # loads what the first wrote and keeps both
    reader = BlockCache(path)
    assert reader.get(0x100, b"\x00\xbf")[1].cycles == [1]
    assert reader.get(0x200, b"\x00\xbf")[1].cycles == [2]
    assert reader.get(0x100, b"\x01\xbf") is None  # other bytes at the same address
    assert [p.name for p in tmp_path.iterdir()] == ["blocks-x.pickle"]  # no temporary left


def test_the_cache_can_be_turned_off(monkeypatch, tmp_path):
    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    assert cache_directory() == tmp_path
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "0")
    assert cache_directory() is None
    monkeypatch.delenv("MCUSIM_CACHE_DIR")
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == tmp_path / "xdg" / "mcusim"

"""The persistent block cache (isa/block_cache.py): same numbers with and without it, keyed
by image, model and read path, and safe against bad or concurrent files."""

from __future__ import annotations

import marshal

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
    first = _counts(elf, board)  # the image's first run: a marker, no cache file
    assert [p.suffix for p in tmp_path.iterdir()] == [".seen"]
    assert next(tmp_path.iterdir()).stat().st_size == 0
    filling = _counts(elf, board)
    files = list(tmp_path.glob("blocks-*.marshal"))
    assert len(files) == 1
    warm = _counts(elf, board)
    assert uncached == first == filling == warm
    # Another clock changes the flash read path, so it is another file, with its own numbers.
    other = _counts(elf, board, clock="16MHz")
    assert _counts(elf, board, clock="16MHz") == other
    assert len(list(tmp_path.glob("blocks-*.marshal"))) == 2
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "0")
    assert other == _counts(elf, board, clock="16MHz")


def test_a_bad_cache_file_is_ignored_and_replaced(kernels, tmp_path, monkeypatch):
    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    elf = kernels / "nucleo-f446re" / "fc.elf"
    expected = _counts(elf, "nucleo-f446re")
    assert _counts(elf, "nucleo-f446re") == expected  # (the second run writes the file)
    (path,) = tmp_path.glob("blocks-*.marshal")
    path.write_bytes(b"not a marshal file")
    assert _counts(elf, "nucleo-f446re") == expected
    assert marshal.loads(path.read_bytes())["blocks"]  # rewritten whole


def test_writers_merge_and_replace_atomically(tmp_path, monkeypatch):
    from mcusim.isa.timing import BlockTiming

    path = tmp_path / "blocks-x.marshal"
    first, second = BlockCache(path), BlockCache(path)
    first.put(0x100, b"\x00\xbf", ([], BlockTiming([1]), None))
    second.put(0x200, b"\x00\xbf", ([], BlockTiming([2]), None))
    first.save()
    second.save()  # loads what the first wrote and keeps both
    reader = BlockCache(path)
    assert reader.get(0x100, b"\x00\xbf")[1].cycles == [1]
    assert reader.get(0x200, b"\x00\xbf")[1].cycles == [2]
    assert reader.get(0x100, b"\x01\xbf") is None  # other bytes at the same address
    assert [p.name for p in tmp_path.iterdir()] == ["blocks-x.marshal"]  # no temporary left


def test_the_cache_can_be_turned_off(monkeypatch, tmp_path):
    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    assert cache_directory() == tmp_path
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "0")
    assert cache_directory() is None
    monkeypatch.delenv("MCUSIM_CACHE_DIR")
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == tmp_path / "xdg" / "mcusim"


def test_instructions_and_hooks_come_back_as_they_went_in(tmp_path):
    from mcusim.isa.decode import classify_block
    from mcusim.isa.timing import BlockTiming

    path = tmp_path / "blocks-y.marshal"
    a = bytes.fromhex("0120" "4ff00001" "00fb01f2")  # movs; mov.w; mul
    b = bytes.fromhex("0221" "b0fbf1f0" "7047")  # movs; udiv; bx lr
    ia, ib = classify_block(a, 0x1000), classify_block(b, 0x2000)
    first, second = BlockCache(path), BlockCache(path)
    first.put(0x1000, a, (ia, BlockTiming([1, 1, 1], 0, 1, {}), [0, 2, 0]))
    second.put(0x2000, b, (ib, BlockTiming([1, 2, 3], 2, 0, {0x2002: "div"}), None))
    second.put_hooks(0x2000, len(b), "div|mul", [(ib[1:], {0x2002: "div"})])
    first.save()
    second.save()  # merges: its shapes are renumbered against the file's
    reader = BlockCache(path)
    insns, t, stalls = reader.get(0x1000, a)
    assert insns == ia and stalls == [0, 2, 0] and t.entry_extra == 1
    insns, t, stalls = reader.get(0x2000, b)
    assert insns == ib and t.dynamic == {0x2002: "div"} and t.taken_extra == 2
    assert type(insns[0]) is type(ib[0])
    assert reader.hooks(0x2000, len(b), "div|mul") == [(ib[1:], {0x2002: "div"})]
    assert reader.hooks(0x2000, len(b), "div|mul|wf") is None  # chosen by other rules


def test_cached_instructions_are_made_when_used(tmp_path):
    from mcusim.isa.cached_insns import CachedInsns
    from mcusim.isa.decode import classify_block
    from mcusim.isa.timing import BlockTiming

    code = bytes.fromhex("0120" "30bf" "4ff00001" "30bf" "7047")  # movs; wfi; mov.w; wfi; bx lr
    insns = classify_block(code, 0x3000)
    cache = BlockCache(tmp_path / "blocks-z.marshal")
    cache.put(0x3000, code, (insns, BlockTiming([1] * 5), None))
    cache.save()
    got = BlockCache(tmp_path / "blocks-z.marshal").get(0x3000, code)[0]
    assert isinstance(got, CachedInsns) and len(got) == 5
    assert got.last() == insns[-1]
    assert got.of_class("wfi") == [insns[1], insns[3]] and not got.of_class("mul")
    assert list(got) == insns  # the first pass keeps nothing
    assert list(got) == insns and got[2] == insns[2] and got[1:3] == insns[1:3]
    assert got == insns and got.last() == insns[-1] and got.of_class("wfi")[1] == insns[3]


def test_cached_blocks_answer_by_class_and_sp_change_without_their_instructions(tmp_path):
    from mcusim.isa.cached_insns import of_classes, sp_deltas
    from mcusim.isa.decode import classify_block
    from mcusim.isa.timing import BlockTiming
    from mcusim.sim.accounting.native import _lowest_sp
    from mcusim.sim.core.blocks import Block

    # push {r4, lr}; sub sp, #8; movs r0, #1; add sp, #8; mov sp, r0; pop {r4, pc}
    code = bytes.fromhex("10b5" "82b0" "0120" "02b0" "8546" "10bd")
    insns = classify_block(code, 0x4000)
    cache = BlockCache(tmp_path / "blocks-s.marshal")
    cache.put(0x4000, code, (insns, BlockTiming([1] * 6), None))
    cache.save()
    got = BlockCache(tmp_path / "blocks-s.marshal").get(0x4000, code)[0]
    assert sp_deltas(got) == [i.sp_delta for i in insns] == [-8, -8, 0, 8, None, 8]
    assert of_classes(got, ("stm", "mul")) == [insns[0]] and of_classes(got, ("mul",)) == []
    block = Block(0x4000, len(code), got, [1] * 6, None)
    assert _lowest_sp(block) == (-16, 0x4002)  # lowest after the sub, before SP is set
    assert _lowest_sp(Block(0x4004, 2, insns[2:3], [1], None)) == (0, 0x4004)
    assert got == insns  # still every instruction, made when asked for

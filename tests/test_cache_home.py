"""One cache directory for the block cache and the model builds (base/cache_home.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mcusim.base.cache_home import mark_used, trim
from mcusim.isa.block_cache import cache_directory
from mcusim.nn.paths import builds_dir


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("MCUSIM_CACHE_DIR", "MCUSIM_CACHE", "XDG_CACHE_HOME", "MCUSIM_BLOCK_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_both_caches_follow_the_xdg_convention(clean_env, tmp_path):
    assert cache_directory() == tmp_path / "home" / ".cache" / "mcusim"
    assert builds_dir() == tmp_path / "home" / ".cache" / "mcusim" / "nn"
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    # The model builds used to ignore $XDG_CACHE_HOME and go to ~/.cache/mcusim.
    assert cache_directory() == tmp_path / "xdg" / "mcusim"
    assert builds_dir() == tmp_path / "xdg" / "mcusim" / "nn"


def test_mcusim_cache_dir_names_the_one_directory(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("MCUSIM_CACHE_DIR", str(tmp_path / "c"))
    # The model builds used to read only $MCUSIM_CACHE.
    assert cache_directory() == tmp_path / "c" and builds_dir() == tmp_path / "c" / "nn"
    clean_env.setenv("MCUSIM_CACHE", str(tmp_path / "old"))
    assert builds_dir() == tmp_path / "c" / "nn"  # the current name wins over the former one


def test_the_former_variable_is_still_read(clean_env, tmp_path):
    clean_env.setenv("MCUSIM_CACHE", str(tmp_path / "old"))
    assert cache_directory() == tmp_path / "old" and builds_dir() == tmp_path / "old" / "nn"
    clean_env.setenv("MCUSIM_BLOCK_CACHE", "0")
    assert cache_directory() is None and builds_dir() == tmp_path / "old" / "nn"


def _aged(path: Path, seconds_ago: float) -> None:
    """Last used `seconds_ago` (access and modification time)."""
    t = time.time() - seconds_ago
    os.utime(path, (t, t))


def _entry(home: Path, name: str, size: int, seconds_ago: float) -> Path:
    if name.startswith("nn/"):
        d = home / name
        d.mkdir(parents=True)
        (d / "firmware.elf").write_bytes(b"\0" * size)
        _aged(d / "firmware.elf", seconds_ago)
        return d
    p = home / name
    p.write_bytes(b"\0" * size)
    _aged(p, seconds_ago)
    return p


def test_trimming_removes_the_least_recently_used_first(tmp_path):
    home = tmp_path / "c"
    home.mkdir()
    old = _entry(home, "blocks-old.marshal", 4000, 3600)
    build = _entry(home, "nn/nucleo-f446re-abc", 3000, 1800)
    newer = _entry(home, "blocks-newer.marshal", 3000, 600)
    busy = _entry(home, "blocks-busy.marshal", 3000, 5)  # used seconds ago: kept whatever
    making = _entry(home, "nn/.nucleo-f446re-def-x", 9000, 7200)  # a build being made
    other = _entry(home, "notes.txt", 9000, 7200)  # not the cache's: never counted or removed
    trim(home, 20_000)  # 13,000 of entries: nothing to do
    assert all(p.exists() for p in (old, build, newer, busy, making, other))
    trim(home, 9000)  # down to 8,100: the oldest two go, the busy one stays
    assert not old.exists() and not build.exists()
    assert newer.exists() and busy.exists() and making.exists() and other.exists()
    trim(home, None)  # no limit
    assert newer.exists()


def test_using_an_entry_keeps_it(tmp_path):
    home = tmp_path / "c"
    home.mkdir()
    first = _entry(home, "blocks-first.marshal", 4000, 3600)
    second = _entry(home, "blocks-second.marshal", 4000, 1800)
    before = os.stat(first).st_mtime_ns
    mark_used(first)
    # The block cache compares modification times to see another run's write: unchanged.
    assert os.stat(first).st_mtime_ns == before
    assert time.time() - os.stat(first).st_atime < 60
    # Used now, `first` would survive; age it past the in-use minute, still newer than second.
    os.utime(first, ns=(time.time_ns() - 120 * 10**9, before))
    trim(home, 5000)
    assert first.exists() and not second.exists()


def test_a_run_keeps_the_block_cache_under_the_limit(kernels, tmp_path, monkeypatch):
    from tests.conftest import simulate

    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    for _ in range(2):  # (a cache file is written from an image's second run on)
        simulate(kernels / "nucleo-f446re" / "fc.elf", "nucleo-f446re")
    (first,) = tmp_path.glob("blocks-*.marshal")
    _aged(first, 3600)
    monkeypatch.setenv("MCUSIM_CACHE_MAX", str(first.stat().st_size + 100))
    for _ in range(2):
        simulate(kernels / "nucleo-f446re" / "conv3x3.elf", "nucleo-f446re")
    (left,) = tmp_path.glob("blocks-*.marshal")  # the older file made room for the new one
    assert left != first


def test_a_bad_limit_is_a_usage_error(kernels, capsys, monkeypatch, tmp_path):
    from mcusim.sim.cli import main

    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("MCUSIM_CACHE_MAX", "lots")
    code = main(["run", str(kernels / "nucleo-f446re" / "fc.elf"), "--board", "nucleo-f446re"])
    err = capsys.readouterr().err
    assert code == 64 and "MCUSIM_CACHE_MAX='lots'" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # told before the run


def test_mcusim_cache_shows_and_clears_only_its_entries(capsys, monkeypatch, tmp_path):
    from mcusim.sim.cli import main

    home = tmp_path / "c"
    home.mkdir()
    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(home))
    monkeypatch.setenv("MCUSIM_CACHE_MAX", "2M")
    _entry(home, "blocks-a.marshal", 3 << 10, 10)
    _entry(home, "blocks-b.marshal", 1 << 10, 10)
    _entry(home, "nn/nucleo-f446re-abc", 2 << 10, 10)
    mine = _entry(home, "notes.txt", 5 << 10, 10)
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert f"directory     {home}\n" in out and "limit         2.0 MiB\n" in out
    assert "block files   2 (4.0 KiB)\n" in out and "model builds  1 (2.0 KiB)\n" in out
    assert main(["cache", "dir"]) == 0 and capsys.readouterr().out == f"{home}\n"
    assert main(["cache", "clear"]) == 0
    assert capsys.readouterr().out == f"removed 3 entries (6.0 KiB) from {home}\n"
    assert sorted(p.name for p in home.rglob("*")) == ["nn", "notes.txt"] and mine.exists()
    assert main(["cache", "purge"]) == 64  # not an action: argparse's usage error


def test_a_file_in_place_of_the_cache_directory(clean_env, tmp_path, capsys, kernels):
    """MCUSIM_CACHE_DIR naming a file: `mcusim nn` ended in an internal error (exit 70,
    NotADirectoryError) and `mcusim cache` said the directory was "not made yet". Now the model
    builds and `cache clear` refuse it (73, the setting named); a run goes on without its block
    cache, as when the cache cannot be written."""
    from mcusim.base.errors import OutputError
    from mcusim.sim.cli import main

    (tmp_path / "afile").write_text("")
    clean_env.setenv("MCUSIM_CACHE_DIR", str(tmp_path / "afile" / "sub"))
    with pytest.raises(OutputError, match=r"\$MCUSIM_CACHE_DIR=.*afile is a file"):
        builds_dir()
    assert main(["nn", str(Path(__file__).parents[1] / "nn" / "models" /
                           "digits_cnn_int8.tflite")]) == 73
    assert main(["cache", "clear"]) == 73
    assert "is a file, not a directory" in capsys.readouterr().err
    assert main(["cache"]) == 0
    assert "cannot be made: a file is in its place" in capsys.readouterr().out
    assert main(["run", str(kernels / "nucleo-f446re" / "calltree.elf")]) == 0

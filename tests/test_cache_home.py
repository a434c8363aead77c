"""One cache directory for the block cache and the model builds (base/cache_home.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcusim.isa.block_cache import cache_directory
from mcusim.nn.paths import cache_root


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("MCUSIM_CACHE_DIR", "MCUSIM_CACHE", "XDG_CACHE_HOME", "MCUSIM_BLOCK_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_both_caches_follow_the_xdg_convention(clean_env, tmp_path):
    assert cache_directory() == cache_root() == tmp_path / "home" / ".cache" / "mcusim"
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    # The model builds used to ignore $XDG_CACHE_HOME and go to ~/.cache/mcusim.
    assert cache_directory() == cache_root() == tmp_path / "xdg" / "mcusim"


def test_mcusim_cache_dir_names_the_one_directory(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("MCUSIM_CACHE_DIR", str(tmp_path / "c"))
    # The model builds used to read only $MCUSIM_CACHE.
    assert cache_directory() == cache_root() == tmp_path / "c"
    clean_env.setenv("MCUSIM_CACHE", str(tmp_path / "old"))
    assert cache_root() == tmp_path / "c"  # the current name wins over the former one


def test_the_former_variable_is_still_read(clean_env, tmp_path):
    clean_env.setenv("MCUSIM_CACHE", str(tmp_path / "old"))
    assert cache_root() == cache_directory() == Path(tmp_path / "old")
    clean_env.setenv("MCUSIM_BLOCK_CACHE", "0")
    assert cache_directory() is None and cache_root() == tmp_path / "old"

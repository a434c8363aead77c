"""Building generated model firmware with arm-none-eabi-gcc, into a content-keyed cache.

The cache key is a hash of everything that goes into the ELF: the generated C, the board's
compiler flags and linker script, the kernel library and startup sources, and the compiler's
version. A second run of the same model, board and options finds the ELF and does not compile.
Builds happen in a private temporary directory renamed into place, so concurrent runs never
see a half-written ELF (the loser of a race discards its copy).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mcusim.base.cache_home import cache_limit, mark_used, trim
from mcusim.nn.codegen import GeneratedModel
from mcusim.nn.paths import builds_dir, kernels_dir
from mcusim.nn.sim_api import InputError, McusimError, UsageError

CROSS = "arm-none-eabi-gcc"
CFLAGS = ["-std=c11", "-O2", "-ffunction-sections", "-fdata-sections", "-Wall",
          "-Wno-unused-const-variable"]
LDFLAGS = ["--specs=rdimon.specs", "-Wl,--gc-sections"]
ELF_NAME = "model.elf"


class BuildError(McusimError):
    """The generated firmware did not compile or link (a bug, or the model does not fit)."""

    exit_code = InputError.exit_code


@dataclass(frozen=True)
class BoardFlags:
    board: str
    cpu: tuple[str, ...]  # -mcpu=... -mthumb -mfloat-abi=...
    uart: tuple[str, ...]  # -DMCUSIM_UART_...
    linker_script: Path


@lru_cache(maxsize=32)
def board_flags(board: str) -> BoardFlags:
    """The board's compiler flags from kernels_c/boards.mk, expanded by make itself."""
    kdir = kernels_dir()
    script = kdir / "ld" / f"{board}.ld"
    if not script.is_file():
        raise UsageError(f"board {board!r} has no linker script {script}: the model path "
                         "builds firmware only for boards in kernels_c/boards.mk")
    probe = f"_nn_flags: ; @echo '$({board}_CPU)|$({board}_UART)'"
    try:
        out = subprocess.run(["make", "-s", "--no-print-directory", "-f", "boards.mk",
                              f"--eval={probe}", "_nn_flags"], cwd=kdir, check=True,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        raise BuildError(f"cannot read the board flags from {kdir}/boards.mk: {e}") from None
    cpu, _, uart = out.partition("|")
    if not cpu.strip():
        raise UsageError(f"board {board!r} is not in {kdir}/boards.mk")
    return BoardFlags(board, tuple(cpu.split()), tuple(uart.split()), script)


def memory_sizes(board: str) -> dict[str, int]:
    """LENGTH of each MEMORY region of the board's linker script (FLASH, RAM, ...)."""
    text = board_flags(board).linker_script.read_text()
    sizes = {}
    for name, length, unit in re.findall(
            r"^\s*(\w+)\s*\([rwx]+\)\s*:\s*ORIGIN\s*=\s*\w+\s*,\s*LENGTH\s*=\s*(\d+)\s*([KM]?)",
            text, re.M):
        sizes[name] = int(length) * {"": 1, "K": 1024, "M": 1 << 20}[unit]
    return sizes


def kernel_sources() -> list[Path]:
    kdir = kernels_dir()
    src = kdir / "nn" / "src"
    return [kdir / "common" / "startup.c", kdir / "common" / "mcusim.c",
            *sorted([*src.glob("*.c"), *src.glob("*.S")])]


def _inputs_digest(flags: BoardFlags, extra: tuple[str, ...]) -> str:
    kdir = kernels_dir()
    h = hashlib.sha256()
    files = [*kernel_sources(), *sorted((kdir / "nn" / "src").glob("*.h")),
             *sorted((kdir / "nn" / "include").glob("*.h")), kdir / "include" / "mcusim.h",
             flags.linker_script, kdir / "ld" / "common.ld"]
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(" ".join([*flags.cpu, *flags.uart, *CFLAGS, *LDFLAGS, *extra]).encode())
    h.update(_compiler_version().encode())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _compiler_version() -> str:
    try:
        return subprocess.run([CROSS, "--version"], capture_output=True, text=True,
                              check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        raise BuildError(f"{CROSS} is not installed (scripts/setup.sh installs it)") from None


def build_key(model: GeneratedModel, board: str, extra: tuple[str, ...] = ()) -> str:
    h = hashlib.sha256(_inputs_digest(board_flags(board), extra).encode())
    for name, text in sorted(model.files().items()):
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()[:24]


@dataclass
class Build:
    elf: Path
    key: str
    cached: bool  # True if the ELF came from the cache without compiling


def _cached_dir(final: Path, marker: str, fill) -> bool:
    """Make `final` (holding `marker`) by running fill(tmp) in a private temporary directory
    renamed into place; True if it already existed. Concurrent callers never see a partial
    directory: the loser of a rename race discards its copy."""
    if (final / marker).is_file():
        mark_used(final / marker)  # (trimming the cache removes the least recently used)
        return True
    limit = cache_limit()
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        fill(tmp)
        try:
            os.rename(tmp, final)
        except OSError:  # another run renamed the same build into place first
            if not (final / marker).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    trim(final.parent.parent, limit)  # (the cache directory: its nn/ holds the builds)
    return False


def kernel_objects(board: str, extra: tuple[str, ...] = (),
                   progress: Callable[[str], None] | None = None) -> list[Path]:
    """The kernel library, startup and mcusim.c compiled once per board and kernel sources."""
    flags = board_flags(board)
    key = hashlib.sha256(_inputs_digest(flags, extra).encode()).hexdigest()[:24]
    final = builds_dir() / f"kernels-{board}-{key}"
    sources = kernel_sources()

    def fill(tmp: Path) -> None:
        if progress is not None:
            progress(f"compiling the kernel library for {board} ({len(sources)} sources)")
        for i, src in enumerate(sources):
            _run([CROSS, *flags.cpu, *flags.uart, *CFLAGS, *extra, *_includes(), "-c",
                  str(src), "-o", str(tmp / f"{i:02d}_{src.stem}.o")], flags.board)
        (tmp / "done").write_text("\n".join(map(str, sources)) + "\n")

    _cached_dir(final, "done", fill)
    return sorted(final.glob("*.o"))


def build(model: GeneratedModel, board: str, extra_cflags: tuple[str, ...] = (),
          progress: Callable[[str], None] | None = None) -> Build:
    """The ELF for `model` on `board`, from the cache or freshly compiled into it
    (`progress` is told what is compiled, when something is)."""
    key = build_key(model, board, extra_cflags)
    final = builds_dir() / f"{board}-{key}"
    flags = board_flags(board)

    def fill(tmp: Path) -> None:
        objects = kernel_objects(board, extra_cflags, progress)
        for name, text in model.files().items():
            (tmp / name).write_text(text)
        if progress is not None:
            progress(f"compiling the model firmware for {board} (arm-none-eabi-gcc)")
        _run(compile_command(tmp, flags, objects, extra_cflags), board)

    cached = _cached_dir(final, ELF_NAME, fill)
    return Build(final / ELF_NAME, key, cached)


def _includes() -> list[str]:
    kdir = kernels_dir()
    return [f"-I{kdir / 'include'}", f"-I{kdir / 'nn' / 'include'}"]


def compile_command(workdir: Path, flags: BoardFlags, objects: list[Path],
                    extra: tuple[str, ...] = ()) -> list[str]:
    kdir = kernels_dir()
    return [CROSS, *flags.cpu, *flags.uart, *CFLAGS, *extra, *_includes(),
            str(workdir / "model.c"), str(workdir / "main.c"), *map(str, objects), *LDFLAGS,
            f"-L{kdir / 'ld'}", "-T", str(flags.linker_script),
            f"-Wl,-Map={workdir / 'model.map'}", "-o", str(workdir / ELF_NAME)]


def _run(cmd: list[str], board: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        log = proc.stderr.strip()
        overflow = next((ln for ln in log.splitlines()
                         if "overflowed by" in ln or "RAM overflow" in ln), None)
        if overflow:
            raise BuildError(f"the model does not fit {board}: the linker says "
                             f"{overflow.split(': ', 1)[-1]}")
        raise BuildError(f"building the model firmware for {board} failed "
                         f"(this is a bug in mcusim nn or the kernels):\n{log[-2000:]}")

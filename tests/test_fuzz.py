"""Fuzzing (hypothesis): damaged ELFs, damaged debug information and arbitrary semihosting
arguments never make mcusim fail with an internal error (exit 70) or a traceback. Bounded to
a few seconds each; the seeds are derandomised so CI runs the same cases every time."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mcusim.base.errors import ExitCode, UsageError
from mcusim.memory.board import load_board
from mcusim.sim import Firmware, ProgramIO, RunOptions, Simulation
from mcusim.sim.cli import main

from .asm import EXIT_OK, build

# No shrinking: a failure is reported as found (shrinking a damaged ELF can take minutes).
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, phases=PHASES,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

mutations = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1,
                     max_size=12)


def _mutated(data: bytes, changes: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for offset, value in changes:
        out[offset % len(out)] = value
    return bytes(out[:cut] if cut else out)


def _run(capsys, *args: str) -> tuple[int, str]:
    rc = main(list(args))
    err = capsys.readouterr().err
    return rc, err


@pytest.fixture(scope="module")
def small_elf(tmp_path_factory) -> bytes:
    return build(tmp_path_factory.mktemp("fuzz"), EXIT_OK + "\n    b reset\n").read_bytes()


@FUZZ
@given(changes=mutations, cut=st.one_of(st.none(), st.integers(1, 4096)))
def test_damaged_elf_is_never_an_internal_error(tmp_path, capsys, small_elf, changes, cut):
    elf = tmp_path / "fuzzed.elf"
    elf.write_bytes(_mutated(small_elf, changes, cut))
    rc, err = _run(capsys, "run", str(elf), "--max-instructions", "20000")
    assert rc != ExitCode.INTERNAL and "Traceback" not in err, err


@pytest.fixture(scope="module")
def debug_elf(kernels) -> tuple[bytes, list[tuple[int, int]]]:
    """recurse.elf (built with -g) and the file ranges of its DWARF sections."""
    from elftools.elf.elffile import ELFFile

    path = kernels / "nucleo-f446re" / "recurse.elf"
    with open(path, "rb") as f:
        ranges = [(s["sh_offset"], s["sh_size"]) for s in ELFFile(f).iter_sections()
                  if s.name.startswith(".debug_") and s["sh_size"]]
    return path.read_bytes(), ranges


@settings(max_examples=15, deadline=None, derandomize=True, phases=PHASES,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.integers(0), st.integers(0), st.integers(0, 255)),
                        min_size=1, max_size=40))
def test_damaged_debug_info_degrades_to_no_lines(tmp_path, capsys, debug_elf, changes):
    data, ranges = debug_elf
    out = bytearray(data)
    for which, offset, value in changes:
        start, size = ranges[which % len(ranges)]
        out[start + offset % size] = value
    elf = tmp_path / "fuzzed.elf"
    elf.write_bytes(bytes(out))
    rc, err = _run(capsys, "run", str(elf), "--profile=lines")
    assert rc == 0 and "Traceback" not in err and "internal error" not in err, err


@pytest.fixture(scope="module")
def semihosting_sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("fs")
    elf = build(root, EXIT_OK)
    program = ProgramIO(fs_root=root, stdout=io.BytesIO(), stderr=io.BytesIO(),
                        stdin=io.BytesIO(b"input\n"))
    sim = Simulation(Firmware.open(elf), load_board("nucleo-f446re"), RunOptions(io=program))
    return sim


RAM = 0x20000000
ADDRESSES = st.one_of(st.integers(0, 0xFFFFFFFF), st.integers(RAM, RAM + 0x3FF0),
                      st.integers(0x08000000, 0x08000100))


@FUZZ
@given(op=st.one_of(st.integers(0, 0x32), st.integers(0, 0xFFFFFFFF)),
       block=st.lists(st.one_of(st.integers(0, 0xFFFFFFFF), ADDRESSES, st.integers(0, 64)),
                      min_size=4, max_size=4),
       text=st.binary(max_size=32), arg_in_ram=st.booleans(), raw=ADDRESSES)
def test_semihosting_arguments_never_raise(semihosting_sim, op, block, text, arg_in_ram, raw):
    """Any call with any argument block answers the program (a value in r0, maybe errno)."""
    sim = semihosting_sim
    block_at, text_at = RAM + 0x1000, RAM + 0x2000
    sim.uc.mem_write(text_at, text + b"\0")
    words = [text_at if w == 0 else w for w in block]
    sim.uc.mem_write(block_at, b"".join(w.to_bytes(4, "little") for w in words))
    sim.semihosting.exit = None
    try:
        result = sim.semihosting.call(sim.guest_memory, op, block_at if arg_in_ram else raw)
    except UsageError:
        return  # a command line that does not fit: a clear error to the user, not a crash
    assert 0 <= result <= 0xFFFFFFFF


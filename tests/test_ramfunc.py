"""Code run from RAM (kernels copied to SRAM at start-up, kernels_c/src/ramfunc.c) runs the
same whether it is observed or not: recording RAM accesses or profiling changes neither its
output nor its instruction or cycle count, on the block-by-block Python path and on the
default one (native when built; CI runs the suite with MCUSIM_NATIVE=0 too). Before the fix,
its code hooks were added when it first ran, by restarting the emulation; with the memory
hooks of record_accesses present, that restart changed what it executed (sim/core/code_map.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import simulate

BOARD = "nucleo-f446re"
RAM_KERNELS = ("ram_clamp", "ram_copy4", "ram_sum_bytes")
OBSERVED = {
    "record": {"record_accesses": True},
    "record+profile": {"record_accesses": True, "profile": True},
    "profile": {"profile": True},
    "memory": {"memory": True},
}


def _outcome(run) -> tuple[object, ...]:  # noqa: ANN001 - a conftest Run
    r = run.result
    return run.stdout, run.stderr, r.exit_code, r.stop, r.instructions, r.cycles


@pytest.fixture(scope="module")
def elf(kernels):
    return kernels / BOARD / "ramfunc.elf"


@pytest.mark.parametrize("path", ["default", "python"])
def test_ram_code_runs_the_same_observed(elf, path):
    flags = {"native": False, "batched": False} if path == "python" else {}
    plain = simulate(elf, BOARD, **flags)
    assert plain.result.exit_code == 0
    assert plain.stdout.count(b"round ") == 8
    assert plain.sim.restarts == 0  # the RAM code's hooks were placed before the run
    for name, options in OBSERVED.items():
        observed = simulate(elf, BOARD, **flags, **options)
        assert _outcome(observed) == _outcome(plain), (path, name)
        assert observed.sim.restarts == 0, (path, name)


def test_python_and_default_paths_agree(elf):
    assert _outcome(simulate(elf, BOARD, native=False, batched=False, record_accesses=True)) \
        == _outcome(simulate(elf, BOARD))


def test_the_kernels_run_from_ram_and_store_next_to_their_code(elf):
    """What the test above relies on: the kernels are in SRAM, they run, and they store into
    the 1 KiB page that holds their code (what makes QEMU's self-modifying-code check care)."""
    run = simulate(elf, BOARD, record_accesses=True, profile=True)
    symbols = run.sim.firmware.symbols
    ram = next(r for r in run.sim.board.regions if r.kind != "flash" and r.base == 0x20000000)
    pages = set()
    for name in RAM_KERNELS:
        address = symbols.get(name).address & ~1
        assert ram.contains(address), name
        pages.add(address >> 10)
    trace = run.result.trace
    assert trace is not None
    writes = trace.address[trace.kind == 1]
    assert np.isin(writes.astype(np.int64) >> 10, list(pages)).any()
    functions = {f.name for f in run.result.profile.functions}
    assert set(RAM_KERNELS) <= functions


@pytest.mark.parametrize("path", ["default", "python"])
def test_code_the_elf_does_not_show_is_refused_when_recording(elf, path, monkeypatch):
    """Code the engine could not instrument before the run (here: as if the ELF showed no
    code) needs a restart to instrument; with RAM accesses recorded that restart would change
    the run, so it is refused with an error naming the problem. Without recording it runs as
    before, restarting."""
    import mcusim.sim.core.firmware as firmware
    from mcusim.base.errors import InputError

    flags = {"native": False, "batched": False} if path == "python" else {}
    expected = _outcome(simulate(elf, BOARD, **flags))
    monkeypatch.setattr(firmware, "spans_of", lambda elf, sections=None: ())
    unobserved = simulate(elf, BOARD, **flags)
    assert unobserved.sim.restarts > 0
    assert _outcome(unobserved) == expected
    with pytest.raises(InputError, match="cannot record RAM accesses.*IT blocks"):
        simulate(elf, BOARD, record_accesses=True, **flags)

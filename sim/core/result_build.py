"""Assembling a finished simulation into its RunResult."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Protocol

import unicorn.arm_const as arm

from mcusim.sim.core import faults
from mcusim.sim.core.regions import region_counts
from mcusim.sim.result import FaultInfo, FlashStats, RunResult
from mcusim.traces.profile import FunctionProfile

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation

# The profile entries that carry the cycles of exception entry, return and tail-chaining
# (ExceptionEvent.kind -> name): pseudo-functions, so that self cycles still add up to the
# run's total. Their counts and cycles come from `Simulation.exception_latency`.
LATENCY_ENTRIES = {"entry": "[exception entry]", "return": "[exception exit]",
                   "tail_chain": "[tail-chain]"}


def build_result(sim: Simulation, host_seconds: float) -> RunResult:
    regions, warnings = region_counts(sim.region_events)
    exit_info = sim.semihosting.exit
    fault = None
    stop_info = sim.stop_info
    if exit_info is not None and stop_info is None:
        stop, exit_code = "exit", exit_info.code
    else:
        pc = stop_info.pc if stop_info else sim.uc.reg_read(arm.UC_ARM_REG_PC)
        kind = stop_info.kind if stop_info else "escalated_fault"
        message = (stop_info.message if stop_info
                   else "emulation ended without the program exiting")
        stop, exit_code = kind, None
        fault = FaultInfo(
            kind=kind, message=message, pc=pc, location=sim.firmware.symbols.describe(pc),
            address=stop_info.address if stop_info else None,
            registers=faults.registers(sim.uc),
            call_stack=faults.call_stack(sim.uc, sim.firmware.symbols, sim.board))
    return RunResult(
        elf=str(sim.firmware.path), board=sim.board.name, core=sim.board.core.name,
        clock_hz=sim.board.clock_hz, timing_model=sim.timing.name, exit_code=exit_code,
        instructions=sim.instructions, cycles=sim.cycles, host_seconds=host_seconds,
        stop=stop, fault=fault, functions=function_profiles(sim), regions=regions,
        warnings=warnings, flash=flash_stats(sim),
        unknown_peripheral_accesses={f"{a:#010x}": w for a, w in
                                     sorted(sim.unknown_accesses.addresses.items())},
        argv=sim.argv,
        stdout_bytes=sim.stdout.getvalue() if isinstance(sim.stdout, io.BytesIO) else None)


class CallCounts(Protocol):
    """What a call tracker counted per function (sim/observe/profiler.py)."""

    calls: dict[str, int]
    inclusive: dict[str, list[int]]  # function -> [cycles, instructions]


def function_profiles(sim: Simulation, calls: CallCounts | None = None
                      ) -> list[FunctionProfile]:
    """Self cycles and instructions per function from the blocks that ran (exact: they add up
    to the run's totals), with calls and inclusive figures when calls were tracked."""
    totals: dict[str, list[int]] = {}
    for block in sim.blocks.values():
        t = totals.setdefault(sim.function_of(block), [0, 0])
        t[0] += block.total_cycles
        t[1] += block.total_instructions
    latency: dict[str, list[int]] = getattr(sim, "exception_latency", None) or {}
    for kind, (count, cycles) in latency.items():
        if count:
            totals[LATENCY_ENTRIES[kind]] = [cycles, 0]
    out = []
    for name, (cycles, insns) in totals.items():
        if not cycles and not insns and name not in LATENCY_ENTRIES.values():
            continue
        sym = sim.firmware.symbols.get(name)
        count = inclusive = inclusive_insns = None
        if calls is not None:
            count = calls.calls.get(name, 0)
            inc = calls.inclusive.get(name)
            inclusive, inclusive_insns = inc if inc else (cycles, insns)
        out.append(FunctionProfile(name, count, cycles, inclusive, insns, inclusive_insns,
                                   sym.address if sym else None))
    out.sort(key=lambda f: (-f.self_cycles, f.name))
    return out


def flash_stats(sim: Simulation) -> list[FlashStats]:
    """Stall cycles per flash region: static line stalls of the blocks that ran, plus the
    dynamic fetch and data stalls."""
    out = []
    for f in sim.flash:
        static = sum(b.fetch_stall * b.executions for b in sim.blocks.values() if b.flash is f)
        out.append(FlashStats(f.region.name, f.ws, static + f.fetch_stall_cycles,
                              f.data_stall_cycles))
    return out

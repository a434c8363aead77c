"""The one result object of a run; the CLI summary, JSON and reports are views of it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcusim.traces.profile import FunctionProfile, Profile

if TYPE_CHECKING:  # the arrays of a recorded trace; a plain run does not import numpy
    import numpy as np

SCHEMA = "mcusim.run/1"


@dataclass
class FaultInfo:
    """Why a run stopped abnormally, with the machine state at that point."""

    kind: str  # memory_fault, undefined_instruction, escalated_fault, limit, reset
    message: str
    pc: int
    location: str  # function+offset
    address: int | None = None
    registers: dict[str, int] = field(default_factory=dict)
    call_stack: list[str] = field(default_factory=list)


@dataclass
class RegionCount:
    """Totals of a named region (mcusim_region_begin/end), over all its occurrences."""

    name: str
    count: int
    cycles: int
    instructions: int


@dataclass
class FlashStats:
    """Cycles a flash region's read path added to the run (cycle model only)."""

    region: str
    wait_states: int
    fetch_stall_cycles: int
    data_stall_cycles: int


@dataclass
class RegionMemory:
    name: str
    stack_peak_bytes: int
    heap_peak_bytes: int
    peak_ram_bytes: int
    live_peak_bytes: int | None


@dataclass
class ProcessStack:
    """What one context that ran on the process stack (PSP; an RTOS task) used of it."""

    top: int  # its PSP when it started running
    peak_bytes: int  # top minus the lowest PSP it reached, exception frames included
    deepest_at: str


@dataclass
class MemoryReport:
    """Static footprint and dynamic peaks; see README "Memory" for the definitions."""

    flash_bytes: int
    static_ram_bytes: int
    # The main stack (MSP): initial SP minus its lowest SP, exact to the byte, exception
    # frames included (for a program that never uses the PSP: the stack)
    stack_peak_bytes: int
    stack_peak_pc: str
    heap_peak_bytes: int  # most bytes allocated (malloc/realloc - free) at once
    heap_reserved_peak_bytes: int  # furthest extent of the heap (sbrk) above its base
    peak_ram_bytes: int  # static + (stack + heap extent) at its worst moment
    live_peak_bytes: int | None  # None when accesses were not recorded
    live_peak_cycle: int | None
    live_peak_location: str | None
    stack_overflow: str | None
    footprint: list[dict[str, Any]] = field(default_factory=list)
    regions: list[RegionMemory] = field(default_factory=list)
    # The process stack (PSP), when thread mode used it: the deepest context's peak, and
    # each context's (task stacks are static data or heap, already in those figures).
    psp_peak_bytes: int | None = None
    process_stacks: list[ProcessStack] = field(default_factory=list)
    # What passed MemoryOptions.max_ram or max_stack (measured at the end), said in a sentence
    over_budget: str | None = None

    @property
    def peak_ram(self) -> int:
        """Peak RAM in bytes (static + stack + heap extent at its worst moment)."""
        return self.peak_ram_bytes

    @property
    def stack_peak(self) -> int:
        return self.stack_peak_bytes

    def __repr__(self) -> str:  # short, for assertion messages (pytest shows it)
        return (f"MemoryReport(peak_ram={self.peak_ram_bytes:,} B, stack_peak="
                f"{self.stack_peak_bytes:,} B, static_ram={self.static_ram_bytes:,} B, "
                f"flash={self.flash_bytes:,} B)")


@dataclass
class AccessTrace:
    """The RAM accesses a run recorded, in execution order, with the meta of the .mtrace
    format (traces/mtrace.py): what `mcusim trace` writes."""

    meta: dict[str, Any]
    cycle: np.ndarray  # uint64: the start of the access's block
    address: np.ndarray  # uint32
    pc: np.ndarray  # uint32: the block's address
    size: np.ndarray  # uint8
    kind: np.ndarray  # uint8: 0 read, 1 write

    def __len__(self) -> int:
        return len(self.kind)


@dataclass(repr=False)
class RunResult:
    elf: str
    board: str
    core: str
    clock_hz: int
    timing_model: str
    exit_code: int | None
    instructions: int
    cycles: int
    host_seconds: float
    stop: str  # "exit", or the FaultInfo kind
    fault: FaultInfo | None = None
    functions: list[FunctionProfile] = field(default_factory=list)
    regions: list[RegionCount] = field(default_factory=list)
    flash: list[FlashStats] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_peripheral_accesses: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    # The full profile (call graph, stacks, timeline, lines) when the run was profiled; its
    # views are the report and the exporters, the JSON keeps `functions` and `regions`.
    profile: Profile | None = None
    memory: MemoryReport | None = None
    # The recorded RAM accesses when they were recorded (not in the JSON: `mcusim trace`).
    trace: AccessTrace | None = None
    # What the program wrote to stdout, when the simulation captured it (no stdout stream was
    # given); not part of the JSON.
    stdout_bytes: bytes | None = None

    @property
    def stdout(self) -> str:
        """The program's standard output as text ("" when it went to a stream)."""
        return (self.stdout_bytes or b"").decode("utf-8", "replace")

    def region(self, name: str) -> RegionCount:
        """The totals of the marker or symbol region `name`."""
        for r in self.regions:
            if r.name == name:
                return r
        known = ", ".join(repr(r.name) for r in self.regions) or "none"
        raise KeyError(f"no region {name!r} in this run (regions: {known})")

    def __repr__(self) -> str:  # short, for assertion messages (pytest shows it)
        end = (f"exit {self.exit_code}" if self.exit_code is not None
               else f"stopped: {self.stop}" + (f" at {self.fault.location}" if self.fault
                                                else ""))
        return (f"RunResult({Path(self.elf).name} on {self.board}: {end}, "
                f"{self.instructions:,} instructions, {self.cycles:,} cycles)")

    @property
    def seconds(self) -> float:
        """Simulated time at the board's clock."""
        return self.cycles / self.clock_hz

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, profile=None, trace=None))
        d["schema"] = SCHEMA
        d["seconds"] = self.seconds
        # Host time is the one figure that differs between identical runs; JSON keeps only
        # deterministic content so results can be diffed.
        d.pop("host_seconds")
        d.pop("profile")
        d.pop("trace")
        d.pop("stdout_bytes")
        return {"schema": d.pop("schema"), **d}

    def to_json_text(self) -> str:
        return json.dumps(self.to_json_dict(), indent=2, sort_keys=False) + "\n"

    def write_json(self, path: Path) -> None:
        path.write_text(self.to_json_text())

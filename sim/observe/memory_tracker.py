"""Dynamic memory accounting during a run: exact stack high-water, heap in use (malloc/free
bookkeeping) and reserved (sbrk), total RAM at its worst moment, per region marker; and the
record of SRAM accesses that the live-bytes analysis reads.

Stack: SP is read at each block entry and moved by the block's constant SP changes
(push/pop, sub/add sp, writeback addressing), so the lowest SP inside the block is exact; an
instruction that sets SP to a run-time value gets a code hook on the instruction after it.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, Uc
from unicorn.arm_const import (
    UC_ARM_REG_LR,
    UC_ARM_REG_MSP,
    UC_ARM_REG_R0,
    UC_ARM_REG_R1,
    UC_ARM_REG_R2,
    UC_ARM_REG_SP,
)

from mcusim.base.errors import UsageError

if TYPE_CHECKING:
    from mcusim.memory.board_spec import RegionSpec
    from mcusim.sim.core.blocks import Block
    from mcusim.sim.core.engine import Simulation

MALLOC = ("_malloc_r", "malloc")
FREE = ("_free_r", "free")
REALLOC = ("_realloc_r", "realloc")
SBRK = ("_sbrk_r", "_sbrk")


class PeakSeries:
    """A value over simulated time kept as the maximum per time bucket, coarsening the buckets
    as the run grows so that a long run keeps at most about `limit` points and every peak."""

    def __init__(self, limit: int = 4096, shift: int = 6):
        self.limit = limit
        self.shift = shift
        self.points: list[list[int]] = []  # [bucket start cycle, max value]

    def add(self, cycle: int, value: int) -> None:
        start = (cycle >> self.shift) << self.shift
        points = self.points
        if points and points[-1][0] == start:
            if value > points[-1][1]:
                points[-1][1] = value
            return
        points.append([start, value])
        if len(points) > self.limit:
            self.shift += 1
            merged: list[list[int]] = []
            for c, v in points:
                b = (c >> self.shift) << self.shift
                if merged and merged[-1][0] == b:
                    merged[-1][1] = max(merged[-1][1], v)
                else:
                    merged.append([b, v])
            self.points = merged


@dataclass
class RegionPeaks:
    name: str
    stack_peak_bytes: int = 0
    heap_peak_bytes: int = 0
    peak_ram_bytes: int = 0
    live_peak_bytes: int = 0


@dataclass
class AccessLog:
    """SRAM accesses in execution order (cycle = the start of the access's block)."""

    cycle: array = field(default_factory=lambda: array("Q"))
    address: array = field(default_factory=lambda: array("I"))
    pc: array = field(default_factory=lambda: array("I"))
    size: array = field(default_factory=lambda: array("B"))
    kind: array = field(default_factory=lambda: array("B"))  # 0 read, 1 write
    dropped: int = 0


class MemoryTracker:
    def __init__(self, sim: Simulation, static_ram: int, record: bool,
                 window: tuple[int, int] | None = None, max_accesses: int | None = None,
                 regions: list[str] | None = None):
        self.sim = sim
        self.static_ram = static_ram
        self.initial_sp = sim.initial_sp
        addresses = sim.firmware.symbols.addresses()
        self.stack_limit = addresses.get("__StackLimit")
        self.stack_low = self.initial_sp
        self.stack_low_pc = 0
        self.overflow: str | None = None
        self.heap_live = 0
        self.heap_peak = 0
        self.allocations: dict[int, int] = {}
        self.heap_base = addresses.get("__HeapBase", addresses.get("end"))
        self.heap_extent = 0
        self.heap_extent_peak = 0
        self.peak_total = 0  # stack in use + heap extent, at its worst block
        self.pending: dict[int, tuple[str, int, int]] = {}  # return address -> call
        self._in_call = 0
        self.open_regions: dict[str, list[RegionPeaks]] = {}
        self.region_peaks: dict[str, RegionPeaks] = {}
        # Peaks since the last marker event, folded into the open regions at each event.
        self._since = [self.initial_sp, 0, 0]  # lowest SP, heap peak, total peak
        self.record = record
        self.regions = regions
        self.window = window
        self.max_accesses = max_accesses
        self.log = AccessLog()
        self.stack_curve = PeakSeries()
        self.heap_curve = PeakSeries()
        self.stack_budget: int | None = None  # --max-stack: the run stops when it is passed
        # Thread mode on the process stack: the blocks' SP is the PSP (exc_memory.py).
        self.psp_active = False
        self.psp_low = 0xFFFFFFFF  # lowest PSP since exc_memory last took it, and where
        self.psp_low_pc = 0

    # -- set-up ---------------------------------------------------------------------------------
    def attach(self, uc: Uc) -> None:
        symbols = self.sim.firmware.symbols
        for names, kind in ((MALLOC, "malloc"), (FREE, "free"), (REALLOC, "realloc"),
                            (SBRK, "sbrk")):
            sym = next((symbols.get(n) for n in names if symbols.get(n)), None)
            if sym is not None:
                uc.hook_add(UC_HOOK_CODE, self._on_heap_call, (kind, names[0] == sym.name),
                            begin=sym.address, end=sym.address)
        if self.record:
            for region in self.recorded_regions():
                for lo, hi in region.windows():
                    for hook, kind in ((UC_HOOK_MEM_READ, 0), (UC_HOOK_MEM_WRITE, 1)):
                        uc.hook_add(hook, self._on_access, kind, begin=lo, end=hi - 1)

    def recorded_regions(self) -> list[RegionSpec]:
        """The RAM regions whose accesses are recorded: all, or the ones chosen by name."""
        ram = [r for r in self.sim.board.regions if r.kind != "flash"]
        if self.regions is None:
            return ram
        by_name = {r.name: r for r in ram}
        unknown = [n for n in self.regions if n not in by_name]
        if unknown:
            raise UsageError(f"--regions: {', '.join(unknown)} is not a RAM region of board "
                             f"{self.sim.board.name}; its RAM regions are "
                             + ", ".join(by_name))
        return [by_name[n] for n in self.regions]

    def code_hooks(self, block: Block) -> list[tuple[int, object, object]]:
        """Instructions right after a run-time SP write, to read SP there."""
        out = []
        for k, insn in enumerate(block.insns[:-1]):
            if insn.sp_delta is None:
                out.append((block.insns[k + 1].address, self._on_sp_write, insn.address))
        return out

    # -- stack ----------------------------------------------------------------------------------
    def on_block(self, uc: Uc, block: Block) -> None:
        sp = uc.reg_read(UC_ARM_REG_SP)
        low, at = sp, block.address
        for insn in block.insns:
            if insn.sp_delta is None:
                break  # continued by the hook on the next instruction
            sp += insn.sp_delta
            if sp < low:
                low, at = sp, insn.address
        self._stack_at(low, at, resume=block.address)

    def overflow_message(self, sp: int, pc: int) -> str:
        where = self.sim.firmware.symbols.describe(pc)
        return (f"stack overflow: SP reached {sp:#010x}, {self.stack_limit - sp} bytes below "
                f"the stack's limit {self.stack_limit:#010x} (__StackLimit), at {where}")

    def set_stack_budget(self, budget: int) -> None:
        self.stack_budget = budget

    def _set_heap_extent(self, value: int) -> None:
        """Where a faster stack tracker learns of heap growth (the native path)."""

    def _on_sp_write(self, uc: Uc, address: int, size: int, writer: int) -> None:
        self._stack_at(uc.reg_read(UC_ARM_REG_SP), writer, resume=address)

    def _stack_at(self, sp: int, pc: int, resume: int | None = None) -> None:
        """SP reached `sp` at `pc`; `resume` is the first instruction not run yet, where the
        run stops if that passes --max-stack."""
        if self.psp_active:
            if sp < self.psp_low:
                self.psp_low, self.psp_low_pc = sp, pc
            return
        if sp < self._since[0]:
            self._since[0] = sp
        if sp < self.stack_low:
            self.stack_low, self.stack_low_pc = sp, pc
            if self.overflow is None and self.stack_limit is not None and sp < self.stack_limit:
                self.overflow = self.overflow_message(sp, pc)
            if self.stack_budget is not None and self.initial_sp - sp > self.stack_budget:
                self.sim.stop_at_stack_budget(self.initial_sp - sp, pc, resume)
        if self.record:
            self.stack_curve.add(self.sim.cycles, self.initial_sp - sp)
        total = self.initial_sp - sp + self.heap_extent
        if total > self._since[2]:
            self._since[2] = total
        if total > self.peak_total:
            self.peak_total = total

    # -- heap -----------------------------------------------------------------------------------
    def _on_heap_call(self, uc: Uc, address: int, size: int, spec: tuple[str, bool]) -> None:
        kind, reentrant = spec
        # Reentrant newlib entry points take the reent pointer first.
        a0, a1 = (UC_ARM_REG_R1, UC_ARM_REG_R2) if reentrant else (UC_ARM_REG_R0, UC_ARM_REG_R1)
        if kind == "free":
            if not self._in_call:
                self._release(uc.reg_read(a0))
            return
        if self._in_call and kind != "sbrk":
            return  # realloc calling malloc and free: the outer call is what counts
        lr = uc.reg_read(UC_ARM_REG_LR)
        arg = uc.reg_read(a0)
        extra = uc.reg_read(a1)
        if kind != "sbrk":
            self._in_call += 1
        self.pending[lr & ~1] = (kind, arg, extra)
        self.sim.hook_return(lr & ~1, self._on_heap_return)

    def _on_heap_return(self, uc: Uc, address: int, size: int, _: object) -> None:
        call = self.pending.pop(address, None)
        if call is None:
            return
        kind, arg, extra = call
        result = uc.reg_read(UC_ARM_REG_R0)
        if kind != "sbrk":
            self._in_call -= 1
        if kind == "sbrk":
            if result != 0xFFFFFFFF and self.heap_base is not None:
                self.heap_extent = max(self.heap_extent, result + _signed(arg) - self.heap_base)
                self._set_heap_extent(self.heap_extent)
                self.heap_extent_peak = max(self.heap_extent_peak, self.heap_extent)
                self.heap_curve.add(self.sim.cycles, self.heap_extent)
            return
        if kind == "realloc":
            if result:
                self._release(arg)
                self._allocate(result, extra)
            return
        if result:
            self._allocate(result, arg)

    def _allocate(self, ptr: int, size: int) -> None:
        self.allocations[ptr] = size
        self.heap_live += size
        self.heap_peak = max(self.heap_peak, self.heap_live)
        self._since[1] = max(self._since[1], self.heap_live)

    def _release(self, ptr: int) -> None:
        self.heap_live -= self.allocations.pop(ptr, 0)

    # -- markers --------------------------------------------------------------------------------
    def on_marker(self, name: str, begin: bool) -> None:
        self._fold()
        if begin:
            peaks = RegionPeaks(name)
            self.open_regions.setdefault(name, []).append(peaks)
            # What is in use as the region starts counts towards its peak.
            peaks.stack_peak_bytes = self.initial_sp - self._current_sp()
            peaks.heap_peak_bytes = self.heap_live
            peaks.peak_ram_bytes = peaks.stack_peak_bytes + self.heap_extent
        elif self.open_regions.get(name):
            peaks = self.open_regions[name].pop()
            total = self.region_peaks.setdefault(name, RegionPeaks(name))
            total.stack_peak_bytes = max(total.stack_peak_bytes, peaks.stack_peak_bytes)
            total.heap_peak_bytes = max(total.heap_peak_bytes, peaks.heap_peak_bytes)
            total.peak_ram_bytes = max(total.peak_ram_bytes, peaks.peak_ram_bytes)

    def _current_sp(self) -> int:
        """The main stack's SP (markers measure the main stack)."""
        if not self.psp_active:
            return self.sim.uc.reg_read(UC_ARM_REG_SP)
        # Unprivileged Thread mode reads MSP as 0 (Unicorn, as the architecture's MRS): then
        # nothing is known to be on the main stack.
        return self.sim.uc.reg_read(UC_ARM_REG_MSP) or self.initial_sp

    # -- what exception tracking uses (exc_memory.py) -------------------------------------------
    def frame_pushed(self, sp: int, pc: int) -> None:
        """An exception frame went onto the main stack, leaving its SP at `sp`."""
        self._stack_at(sp, pc)

    def set_psp_active(self, active: bool) -> None:
        self.psp_active = active

    def take_psp_low(self) -> tuple[int, int]:
        """The lowest PSP the blocks reached since the last call, and where; then reset."""
        low, pc = self.psp_low, self.psp_low_pc
        self.psp_low, self.psp_low_pc = 0xFFFFFFFF, 0
        return low, pc

    def _fold(self) -> None:
        low, heap, total = self._since
        for stack in self.open_regions.values():
            for peaks in stack:
                peaks.stack_peak_bytes = max(peaks.stack_peak_bytes, self.initial_sp - low)
                peaks.heap_peak_bytes = max(peaks.heap_peak_bytes, heap)
                peaks.peak_ram_bytes = max(peaks.peak_ram_bytes, total)
        sp = self._current_sp()
        self._since = [sp, self.heap_live, self.initial_sp - sp + self.heap_extent]

    # -- accesses -------------------------------------------------------------------------------
    def _on_access(self, uc: Uc, access: int, address: int, size: int, value: int,
                   kind: int) -> None:
        block = self.sim.current_block
        cycle = self.sim.cycles - (block.cycles if block is not None else 0)
        self.log_access(cycle, address, block.address if block is not None else 0, size, kind)

    def log_access(self, cycle: int, address: int, pc: int, size: int, kind: int) -> None:
        """One access into the log (the window and the cap apply)."""
        if self.window is not None and not self.window[0] <= cycle < self.window[1]:
            return
        log = self.log
        if self.max_accesses is not None and len(log.kind) >= self.max_accesses:
            log.dropped += 1
            return
        log.cycle.append(cycle)
        log.address.append(address)
        log.pc.append(pc)
        log.size.append(size)
        log.kind.append(kind)

    @property
    def stack_peak(self) -> int:
        return self.initial_sp - self.stack_low


def _signed(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v

"""Exception frames in the memory accounting, the same on every accounting path.

The engine writes a frame with uc.mem_write, which no memory hook sees; its entry event says
where it went, so the frame counts on the stack it was pushed on: the main stack (MSP: the
tracker's stack peak, --max-stack, peak RAM, the stack curve) or the process stack (PSP).
Handlers run on the MSP; while thread mode runs on the PSP, the blocks' SP is process-stack
use (sim/observe/memory_tracker.py routes it there).

Process-stack use is kept per context, a context being what runs on the PSP between
exceptions, known the way the profiler knows it (sim/observe/exc_calls.py): by the PSP it was
interrupted at. A return to the PSP at the SP of the interrupted context resumes it; a return
elsewhere resumes the context parked there or, if none, starts a new one (an RTOS task's first
run) whose top is that SP. A context's peak is its top minus the lowest PSP it reached,
exception frames pushed on it included. What software saves below the hardware frame through
another register (an RTOS's STMDB of r4-r11 in PendSV) moves no SP and is not seen. Thread
mode may also switch stacks without an exception, with MSR CONTROL (SPSEL): a code hook on
each such instruction (rare) does what the entry and return events do.

With accesses recorded, the frame's words are logged as writes at the entry and as reads at
the return, as the engine moves them (sim/core/exc_frame.py): 8 words, or 26 for an extended
frame (S0-S15, FPSCR and the reserved word are written at the entry even with lazy stacking).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import unicorn.arm_const as arm
from unicorn import Uc

from mcusim.sim.result import ProcessStack

if TYPE_CHECKING:
    from mcusim.sim.core.blocks import Block
    from mcusim.sim.core.engine import Simulation
    from mcusim.sim.core.exc_event import ExceptionEvent
    from mcusim.sim.observe.memory_tracker import MemoryTracker

FRAME_WORDS = 8  # R0-R3, R12, LR, return address, xPSR
EXTENDED_FRAME_WORDS = 26  # + S0-S15, FPSCR, reserved
CONTROL_NPRIV, CONTROL_SPSEL = 1, 2
_ALIASES = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12"}


@dataclass
class _Context:
    top: int
    low: int
    low_pc: int
    low_is_frame: bool = False  # the lowest point is an exception frame pushed on it


class ExceptionStacks:
    """What exception events do to a memory tracker (see the module docstring)."""

    def __init__(self, tracker: MemoryTracker, sim: Simulation):
        self.tracker = tracker
        self.sim = sim
        self.contexts: list[_Context] = []  # every process-stack context, in order of start
        self.current: _Context | None = None  # the one running on the PSP now
        self.parked: dict[int, _Context] = {}  # by the PSP it was interrupted at
        self.interrupted: list[tuple[str, int, _Context | None]] = []  # per active handler
        self._windows: list[tuple[int, int]] | None = None

    def on_event(self, event: ExceptionEvent) -> None:
        t = self.tracker
        self._fold()
        if event.kind == "entry":
            context = self.current
            if event.stack == "psp":
                if context is None:  # thread mode reached the PSP unseen
                    context = self._start(event.sp_before)
                self._reach(context, event.sp_after, event.handler & ~1, frame=True)
            else:
                context = None
                t.set_psp_active(False)
                t.frame_pushed(event.sp_after, event.handler & ~1)
            self.interrupted.append((event.stack, event.sp_before, context))
            self.current = None
            t.set_psp_active(False)
            self._log_frame(event, event.sp_after, event.handler & ~1, 1)
        elif event.kind == "return":
            stack, sp, context = (self.interrupted.pop() if self.interrupted
                                  else ("msp", -1, None))
            block = self.sim.current_block
            self._log_frame(event, event.sp_before, block.address if block else 0, 0)
            if event.stack == "psp" and context is not None and (stack, sp) == (
                    "psp", event.sp_after):
                self.current = context
            else:
                if context is not None:
                    self.parked[sp] = context
                if event.stack == "psp":
                    self.current = (self.parked.pop(event.sp_after, None)
                                    or self._start(event.sp_after))
            t.set_psp_active(event.stack == "psp")

    def code_hooks(self, block: Block) -> list[tuple[int, object, object]]:
        """MSR CONTROL instructions, looked at before they run."""
        out: list[tuple[int, object, object]] = []
        for insn in block.insns:
            if insn.text.startswith("msr control,"):
                name = insn.text.split(",")[-1].strip()
                reg = getattr(arm, f"UC_ARM_REG_{_ALIASES.get(name, name).upper()}", None)
                if reg is not None:
                    out.append((insn.address, self._on_control_write, reg))
        return out

    def _on_control_write(self, uc: Uc, address: int, size: int, reg: int) -> None:
        """MSR CONTROL about to run: in privileged Thread mode its SPSEL bit picks the SP."""
        if uc.reg_read(arm.UC_ARM_REG_IPSR) & 0x1FF:
            return  # Handler mode: SPSEL is not written
        if uc.reg_read(arm.UC_ARM_REG_CONTROL) & CONTROL_NPRIV:
            return  # unprivileged: the write is ignored
        on_psp = bool(uc.reg_read(reg) & CONTROL_SPSEL)
        if on_psp == self.tracker.psp_active:
            return
        self._fold()
        if on_psp:
            psp = uc.reg_read(arm.UC_ARM_REG_PSP)
            self.current = self.parked.pop(psp, None) or self._start(psp)
        else:
            self.current = None
        self.tracker.set_psp_active(on_psp)

    def process_stacks(self) -> list[ProcessStack]:
        """Each process-stack context's use (call once, after the run)."""
        self._fold()
        symbols = self.sim.firmware.symbols
        return [ProcessStack(c.top, c.top - c.low,
                             "-" if not c.low_pc else
                             f"the exception frame of {symbols.describe(c.low_pc)}"
                             if c.low_is_frame else symbols.describe(c.low_pc))
                for c in self.contexts]

    def _start(self, top: int) -> _Context:
        context = _Context(top, top, 0)
        self.contexts.append(context)
        return context

    @staticmethod
    def _reach(context: _Context, sp: int, pc: int, frame: bool = False) -> None:
        if sp < context.low:
            context.low, context.low_pc, context.low_is_frame = sp, pc, frame

    def _fold(self) -> None:
        """What the blocks reached on the PSP since the last event, into the running context."""
        low, pc = self.tracker.take_psp_low()
        if low == 0xFFFFFFFF:
            return
        if self.current is None:
            self.current = self._start(low)
        self._reach(self.current, low, pc)

    def _log_frame(self, event: ExceptionEvent, frame: int, pc: int, kind: int) -> None:
        t = self.tracker
        if not t.record:
            return
        if self._windows is None:
            self._windows = [w for r in t.recorded_regions() for w in r.windows()]
        start = self.sim.cycles - event.cycles
        span = abs(event.sp_after - event.sp_before)  # the frame and any realignment word
        words = EXTENDED_FRAME_WORDS if span >= 4 * EXTENDED_FRAME_WORDS else FRAME_WORDS
        for k in range(words):
            address = frame + 4 * k
            if any(lo <= address < hi for lo, hi in self._windows):
                t.log_access(start, address, pc, 4, kind)

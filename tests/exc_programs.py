"""Small assembly programs with vector tables for the exception tests, and running them on
every accounting path (which must agree on every figure)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from mcusim.isa.cycles import load_cycle_table
from mcusim.memory.board import load_board
from mcusim.sim import Firmware, ProgramIO, RunOptions, make_simulation
from mcusim.sim.accounting import native_lib
from mcusim.sim.core.engine import Simulation
from mcusim.sim.core.exc_event import ExceptionEvent
from mcusim.sim.core.options import IrqSchedule
from tests.asm import EXIT_OK

BOARD = "nucleo-f446re"  # Cortex-M4F, flash with wait states at its default clock


PATHS = [(False, False), (False, True)] + (
    [(True, None)] if native_lib.load_library() is not None else [])


def vectors(**entries: str) -> str:
    """A vector table after the prelude's SP and reset words: exception number -> label."""
    numbers = {int(k[1:]): v for k, v in entries.items()}
    words = [numbers.get(n, "0") for n in range(2, max(numbers) + 1)]
    return '\n    .section .isr_vector, "a"\n' + "".join(f"    .word {w}\n" for w in words) + \
        "    .text\n"


def data(*names: str) -> str:
    """Words in .bss, each a global symbol the test reads back."""
    return "\n    .bss\n" + "".join(
        f"    .global {n}\n    .type {n}, %object\n{n}: .word 0\n    .size {n}, 4\n"
        for n in names)


class Outcome:
    def __init__(self, sim: Simulation, events: list[tuple[int, ExceptionEvent]]):
        self.sim = sim
        self.events = events

    def word(self, name: str) -> int:
        return struct.unpack("<I", self.sim.read_symbol(name))[0]

    def numbers(self) -> tuple[int, int, dict[str, list[int]], object]:
        sim = self.sim
        stop = sim.stop_info.kind if sim.stop_info else None
        return sim.cycles, sim.instructions, sim.exception_latency, stop


def run_all(elf: Path, board: str = BOARD, irqs: tuple[IrqSchedule, ...] = ()) -> Outcome:
    """Runs on every accounting path; they must agree on every figure. Returns the first."""
    outcomes = []
    for native, batched in PATHS:
        options = RunOptions(io=ProgramIO(stdout=io.BytesIO(), stderr=io.BytesIO()),
                             native=native, batched=batched, interrupts=irqs)
        sim = make_simulation(Firmware.open(elf), load_board(board), options)
        events: list[tuple[int, ExceptionEvent]] = []
        sim.watch_exceptions(lambda e, s=sim, ev=events: ev.append((s.cycles, e)))
        sim.run()
        outcomes.append(Outcome(sim, events))
    first = outcomes[0]
    for other in outcomes[1:]:
        assert other.numbers() == first.numbers(), type(other.sim).__name__
        assert other.events == first.events
    kinds = {type(o.sim).__name__ for o in outcomes}
    assert len(kinds) == len(PATHS)  # each path really ran
    return first


def latencies(core: str = "cortex-m4") -> dict[str, int]:
    return load_cycle_table(core).exceptions


def vector_wait_states(sim: Simulation) -> int:
    vtor = sim.core_peripherals.exceptions.vector_table()
    return next((f.ws for f in sim.flash if f.region.contains(vtor)), 0)


SYSTICK_SETUP = """
    ldr r0, =0xE000E010
    ldr r1, =1999
    str r1, [r0, #4]
    movs r1, #0
    str r1, [r0, #8]
    movs r1, #7
    str r1, [r0]
"""


# A SysTick handler that counts its entries in the word `ticks` (pair with data("ticks")).
COUNT_TICKS = """
    .thumb_func
systick_handler:
    ldr r0, =ticks
    ldr r1, [r0]
    adds r1, #1
    str r1, [r0]
    bx lr
"""

PEND_TWO = """
    cpsid i
    ldr r0, =0xE000E400
    movs r1, #0x40
    strb r1, [r0]
    movs r1, #0x80
    strb r1, [r0, #1]
    ldr r0, =0xE000E100
    movs r1, #3
    str r1, [r0]
    ldr r0, =0xE000E200
    str r1, [r0]
    cpsie i
    ldr r0, =order
    ldr r1, [r0]
    ldr r2, [r0, #4]
""" + EXIT_OK + """
    .thumb_func
irq0:
    movs r3, #0
    b record
    .thumb_func
irq1:
    movs r3, #1
record:
    ldr r0, =count
    ldr r1, [r0]
    ldr r2, =order
    str r3, [r2, r1, lsl #2]
    adds r1, #1
    str r1, [r0]
    bx lr
""" + vectors(v16="irq0", v17="irq1") + data("count", "order", "order1")


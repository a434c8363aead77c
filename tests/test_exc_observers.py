"""Profile and memory accounting with exceptions: handlers are functions called by whatever
they interrupted, the entry/exit/tail-chain latencies are entries of their own, frames count
on the stack they were pushed on, and every accounting path gives the same figures.

The first tests drive the trackers with synthetic events (as sim/core/exc_event.py defines
them); the later ones run small programs."""

from __future__ import annotations

from mcusim.sim.observe.exc_calls import ExceptionCalls
from mcusim.sim.observe.profiler import CallTracker


def _tracker() -> tuple[CallTracker, ExceptionCalls]:
    t = CallTracker("main")
    return t, ExceptionCalls(t)


class _Clock:
    """Blocks of 10 cycles and 4 instructions each, fed to a tracker as the engine would."""

    def __init__(self, tracker: CallTracker):
        self.t, self.cycles, self.insns = tracker, 0, 0

    def block(self, function: str, address: int, call_return: int | None = None) -> None:
        self.t.enter(function, address, call_return, self.cycles, self.insns)
        self.t.charge(10)
        self.cycles += 10
        self.insns += 4

    def latency(self, n: int) -> int:
        self.cycles += n
        return self.cycles


def test_a_handler_is_called_from_what_it_interrupted_and_returns_there():
    t, exc = _tracker()
    c = _Clock(t)
    c.block("main", 0x100)
    for _ in range(3):  # main loop interrupted three times mid-body
        exc.entry(15, "SysTick_Handler", "msp", 0x20004000, None, c.latency(12), c.insns, 12)
        c.block("SysTick_Handler", 0x200)
        c.block("SysTick_Handler", 0x210)
        exc.exc_return("msp", 0x20004000, "main", c.latency(10), c.insns, 10)
        c.block("main", 0x108)  # mid-body: not a call
    exc.finish(c.cycles, c.insns)
    t.finish(c.cycles, c.insns)
    assert t.calls == {"main": 1, "SysTick_Handler": 3, "[exception entry]": 3,
                       "[exception exit]": 3}
    assert t.inclusive["[exception entry]"] == [36, 0]
    assert t.inclusive["[exception exit]"] == [30, 0]
    # The handler's inclusive cost is its whole interrupt cost: entry + body + exit.
    assert t.inclusive["SysTick_Handler"] == [3 * (12 + 20 + 10), 3 * 8]
    assert t.inclusive["main"] == [c.cycles, c.insns]
    assert sum(t.stacks.values()) == c.cycles
    assert t.stacks[("main", "SysTick_Handler", "[exception entry]")] == 36
    assert t.stacks[("main", "SysTick_Handler")] == 60
    edges = {k: v[0] for k, v in t.edges.items()}
    assert edges == {("main", "SysTick_Handler"): 3, ("SysTick_Handler", "[exception entry]"): 3,
                     ("SysTick_Handler", "[exception exit]"): 3}


def test_an_interrupted_call_is_still_a_call_and_returns_stay_above_the_handler():
    t, exc = _tracker()
    c = _Clock(t)
    c.block("main", 0x100)  # ends in BL f, return address 0x104
    # Interrupted at f's first block, which did not run: it is a call when it resumes.
    exc.entry(16, "IRQ0_Handler", "msp", 0x20003ff0, 0x104, c.latency(12), c.insns, 12)
    c.block("IRQ0_Handler", 0x300)
    # The handler reaches 0x104, main's return address, without returning: no pop below it.
    c.block("IRQ0_Handler", 0x104)
    assert [f.function for f in t.frames] == ["main", "IRQ0_Handler"]
    exc.exc_return("msp", 0x20003ff0, "f", c.latency(10), c.insns, 10)
    c.block("f", 0x400)
    assert [f.function for f in t.frames] == ["main", "f"]
    c.block("main", 0x104)  # f returns
    assert [f.function for f in t.frames] == ["main"]
    assert t.calls["f"] == 1 and t.calls["IRQ0_Handler"] == 1


def test_tail_chaining_returns_from_one_handler_and_calls_the_next():
    t, exc = _tracker()
    c = _Clock(t)
    c.block("main", 0x100)
    exc.entry(15, "SysTick_Handler", "msp", 0x20004000, None, c.latency(12), c.insns, 12)
    c.block("SysTick_Handler", 0x200)
    exc.tail_chain(14, "PendSV_Handler", c.latency(6), c.insns, 6)
    c.block("PendSV_Handler", 0x500)
    exc.exc_return("msp", 0x20004000, "main", c.latency(10), c.insns, 10)
    c.block("main", 0x108)
    exc.finish(c.cycles, c.insns)
    t.finish(c.cycles, c.insns)
    assert t.calls["SysTick_Handler"] == t.calls["PendSV_Handler"] == t.calls["[tail-chain]"] == 1
    assert ("main", "PendSV_Handler") in t.edges  # called from what was interrupted
    assert t.stacks[("main", "PendSV_Handler", "[tail-chain]")] == 6
    assert t.stacks[("main", "PendSV_Handler", "[exception exit]")] == 10
    assert sum(t.stacks.values()) == c.cycles


def test_a_context_switch_keeps_one_shadow_stack_per_task():
    t, exc = _tracker()
    c = _Clock(t)
    c.block("main", 0x100)
    # SVC from main (MSP) starts task A on the PSP: main is parked, A is a new root.
    exc.entry(11, "SVC_Handler", "msp", 0x20004000, None, c.latency(12), c.insns, 12)
    c.block("SVC_Handler", 0x600)
    exc.exc_return("psp", 0x20001000, "task_a", c.latency(10), c.insns, 10)
    c.block("task_a", 0x700)
    c.block("work", 0x800, call_return=0x704)
    # PendSV in A's `work`: switches to B (first run), later back to A.
    exc.entry(14, "PendSV_Handler", "psp", 0x20000fe0, None, c.latency(12), c.insns, 12)
    c.block("PendSV_Handler", 0x500)
    exc.exc_return("psp", 0x20002000, "task_b", c.latency(10), c.insns, 10)
    c.block("task_b", 0x900)
    assert [f.function for f in t.frames] == ["task_b"]
    exc.entry(14, "PendSV_Handler", "psp", 0x20001ff8, None, c.latency(12), c.insns, 12)
    c.block("PendSV_Handler", 0x500)
    exc.exc_return("psp", 0x20000fe0, "work", c.latency(10), c.insns, 10)
    assert [f.function for f in t.frames] == ["task_a", "work"]
    c.block("work", 0x810)
    c.block("task_a", 0x704)  # work returns in task A: its own frame, not B's
    assert [f.function for f in t.frames] == ["task_a"]
    exc.finish(c.cycles, c.insns)
    t.finish(c.cycles, c.insns)
    assert t.calls["work"] == 1 and t.calls["PendSV_Handler"] == 2
    assert t.calls["task_a"] == t.calls["task_b"] == 1
    assert sum(t.stacks.values()) == c.cycles
    assert ("task_b", "PendSV_Handler") in t.edges and ("work", "PendSV_Handler") in t.edges
    assert t.inclusive["main"][0] == c.cycles  # parked, closed at the end
    assert not t.active or all(v == 0 for v in t.active.values())

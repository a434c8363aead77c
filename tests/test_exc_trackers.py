"""The exception trackers driven by synthetic events (as sim/core/exc_event.py defines them):
the shadow call stack across entries, returns, tail-chains and context switches, and frames
on the stack they are pushed on. tests/test_exc_observers.py runs programs."""

from __future__ import annotations

from types import SimpleNamespace

from mcusim.sim.core.exc_event import ExceptionEvent
from mcusim.sim.observe.exc_calls import ExceptionCalls
from mcusim.sim.observe.exc_memory import ExceptionStacks
from mcusim.sim.observe.memory_tracker import MemoryTracker
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


class _Sim:
    """What a MemoryTracker and ExceptionStacks read of a simulation, for synthetic events."""

    initial_sp = 0x20004000
    cycles = 0
    current_block = None

    def __init__(self) -> None:
        from mcusim.sim.core.firmware import SymbolTable

        self.firmware = SimpleNamespace(symbols=SymbolTable([]))


def _event(kind: str, stack: str, before: int, after: int, number: int = 15,
           cycles: int = 12) -> ExceptionEvent:
    return ExceptionEvent(kind, number, cycles, stack, before, after, 0x8000101)  # type: ignore[arg-type]


def test_frames_count_on_the_stack_they_are_pushed_on():
    sim = _Sim()
    t = MemoryTracker(sim, 0, record=False)  # type: ignore[arg-type]
    stacks = ExceptionStacks(t, sim)  # type: ignore[arg-type]
    t._stack_at(0x20003fc0, 0x100)  # main, on the MSP
    stacks.on_event(_event("entry", "msp", 0x20003fc0, 0x20003fa0))
    assert t.stack_peak == 0x60  # main's 0x40 + the 32-byte frame
    t._stack_at(0x20003f90, 0x200)  # the handler's own push
    # It starts a task on the PSP: blocks' SP now is process stack, not main stack.
    stacks.on_event(_event("return", "psp", 0x20000fe0, 0x20001000, 11))
    t._stack_at(0x20000f00, 0x300)
    assert t.stack_peak == 0x70
    # Interrupted on the PSP: the frame goes there (with FP: 0x68 bytes); the handler runs on
    # the MSP at the main stack's SP.
    stacks.on_event(_event("entry", "psp", 0x20000f00, 0x20000e98, 14))
    t._stack_at(0x20003f80, 0x400)
    assert t.stack_peak == 0x80
    # PendSV switches to a second task, which is interrupted once on its own stack.
    stacks.on_event(_event("return", "psp", 0x20001fe0, 0x20002000, 14))
    t._stack_at(0x20001ff0, 0x500)
    stacks.on_event(_event("entry", "psp", 0x20001ff0, 0x20001fd0))
    stacks.on_event(_event("return", "psp", 0x20001fd0, 0x20001ff0))
    t._stack_at(0x20001fc0, 0x504)
    # And back to the first task, where it was interrupted.
    stacks.on_event(_event("entry", "psp", 0x20001fc0, 0x20001fa0, 14))
    stacks.on_event(_event("return", "psp", 0x20000e98, 0x20000f00, 14))
    t._stack_at(0x20000f10, 0x304)
    (first, second) = stacks.process_stacks()
    assert (first.top, first.peak_bytes) == (0x20001000, 0x1000 - 0xe98)
    assert (second.top, second.peak_bytes) == (0x20002000, 0x60)
    assert t.stack_peak == 0x80  # the main stack never saw a PSP value

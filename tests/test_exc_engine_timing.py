"""Exception timing in the engine: tail-chaining, late arrival, arrival during unstacking,
WFI and sleep-on-exit advancing simulated time, ARMv6-M latencies; each latency equal to the
core's cycle-table value (isa/cycles/CORE.toml [exceptions]) on every accounting path."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcusim.sim.core.options import IrqSchedule
from tests.asm import EXIT_OK, build
from tests.exc_programs import (
    COUNT_TICKS,
    PEND_TWO,
    SYSTICK_SETUP,
    data,
    latencies,
    run_all,
    vector_wait_states,
    vectors,
)


def test_tail_chain_latency_is_the_table_value(tmp_path: Path) -> None:
    """Two IRQs pended while PRIMASK is set: CPSIE takes the higher-priority one, and on its
    return the other is tail-chained (no unstacking and stacking), then the core returns."""
    out = run_all(build(tmp_path, PEND_TWO))
    assert out.sim.stop_info is None
    assert (out.word("count"), out.word("order"), out.word("order1")) == (2, 0, 1)
    lat, ws = latencies(), vector_wait_states(out.sim)
    assert [(e.kind, e.number, e.cycles) for _, e in out.events] == [
        ("entry", 16, lat["entry"] + ws), ("tail_chain", 17, lat["tail_chain"] + ws),
        ("return", 17, lat["exit"])]
    entry, chained = out.events[0][1], out.events[1][1]
    assert chained.sp_before == chained.sp_after == entry.sp_after  # the frame stays


@pytest.mark.parametrize("gap", [3, 9])
def test_late_arrival_takes_the_higher_priority_vector(tmp_path: Path, gap: int) -> None:
    """IRQ1 (low priority) at cycle 1000 wakes the core from WFI and is being entered when
    IRQ0 (high priority) arrives `gap` cycles later, within the entry latency: IRQ0's handler
    runs first, on the same frame, no earlier than `late_arrival` cycles after it arrived;
    IRQ1 tail-chains after it."""
    body = """
    ldr r0, =0xE000E400
    movs r1, #0x00
    strb r1, [r0]
    movs r1, #0x80
    strb r1, [r0, #1]
    ldr r0, =0xE000E100
    movs r1, #3
    str r1, [r0]
spin:
    wfi
    ldr r0, =count
    ldr r1, [r0]
    cmp r1, #2
    blt spin
""" + PEND_TWO[PEND_TWO.index(EXIT_OK):]
    irq1_at, irq0_at = 1000, 1000 + gap
    out = run_all(build(tmp_path, body), irqs=(IrqSchedule(1, irq1_at), IrqSchedule(0, irq0_at)))
    assert out.sim.stop_info is None
    assert (out.word("order"), out.word("order1")) == (0, 1)
    lat, ws = latencies(), vector_wait_states(out.sim)
    (end, entry), (_, chained) = out.events[0], out.events[1]
    start = end - entry.cycles
    assert irq1_at <= start < irq0_at  # IRQ1's entry had begun
    assert (entry.kind, entry.number) == ("entry", 16)
    assert entry.cycles == max(lat["entry"], irq0_at + lat["late_arrival"] - start) + ws
    assert (chained.kind, chained.number) == ("tail_chain", 17)


def test_exception_arriving_during_unstacking_is_tail_chained(tmp_path: Path) -> None:
    """IRQ1 arriving 4 cycles into IRQ0's exception return abandons the unstacking: it is
    tail-chained, its latency counted from its arrival."""
    body = """
    ldr r0, =0xE000E100
    movs r1, #3
    str r1, [r0]
spin:
    wfi
    ldr r0, =count
    ldr r1, [r0]
    cmp r1, r9
    blt spin
""" + PEND_TWO[PEND_TWO.index(EXIT_OK):]
    body = "    movs r9, #1\n" + body
    elf = build(tmp_path, body)
    alone = run_all(elf, irqs=(IrqSchedule(0, 1000),))
    assert [e.kind for _, e in alone.events] == ["entry", "return"]
    returned = alone.events[1][0] - alone.events[1][1].cycles  # where the exit began
    body = body.replace("movs r9, #1", "movs r9, #2")
    both = run_all(build(tmp_path, body, name="both"),
                   irqs=(IrqSchedule(0, 1000), IrqSchedule(1, returned + 4)))
    lat, ws = latencies(), vector_wait_states(both.sim)
    assert [(e.kind, e.number) for _, e in both.events] == [
        ("entry", 16), ("tail_chain", 17), ("return", 17)]
    chained_at, chained = both.events[1]
    assert chained_at - chained.cycles == returned
    assert chained.cycles == 4 + lat["tail_chain"] + ws


def test_wfi_sleeps_until_the_next_tick(tmp_path: Path) -> None:
    """WFI with SysTick armed: simulated time jumps to the tick (no instructions run while
    asleep), the handler runs, and the loop goes on; 3 ticks of 2000 cycles."""
    body = SYSTICK_SETUP + """
sleep:
    wfi
    ldr r5, =ticks
    ldr r6, [r5]
    cmp r6, #3
    blt sleep
""" + EXIT_OK + COUNT_TICKS + vectors(v15="systick_handler") + data("ticks")
    out = run_all(build(tmp_path, body))
    assert out.sim.stop_info is None and out.word("ticks") == 3
    assert out.sim.cycles > 3 * 2000
    assert out.sim.instructions < 200  # asleep, not spinning
    entries = [c - e.cycles for c, e in out.events if e.kind == "entry"]
    assert [b - a for a, b in zip(entries, entries[1:], strict=False)] == [2000, 2000]


def test_wfi_with_nothing_to_wake_still_stops(tmp_path: Path) -> None:
    out = run_all(build(tmp_path, "    wfi\n" + EXIT_OK))
    assert out.sim.stop_info is not None and out.sim.stop_info.kind == "limit"
    assert "WFI" in out.sim.stop_info.message


def test_sleep_on_exit_tail_chains_the_next_tick(tmp_path: Path) -> None:
    """SCR.SLEEPONEXIT: returning to Thread mode the core sleeps instead, and the next tick
    is taken as a tail-chain; the third handler clears SLEEPONEXIT and the core returns."""
    body = SYSTICK_SETUP + """
    ldr r0, =0xE000ED10
    movs r1, #2
    str r1, [r0]
    wfi
    ldr r0, =ticks
    ldr r1, [r0]
    ldr r0, =after
    str r1, [r0]
""" + EXIT_OK + """
    .thumb_func
systick_handler:
    ldr r0, =ticks
    ldr r1, [r0]
    adds r1, #1
    str r1, [r0]
    cmp r1, #3
    bne 1f
    ldr r0, =0xE000ED10
    movs r1, #0
    str r1, [r0]
1:  bx lr
""" + vectors(v15="systick_handler") + data("ticks", "after")
    out = run_all(build(tmp_path, body))
    assert out.sim.stop_info is None
    assert out.word("after") == 3
    assert [e.kind for _, e in out.events] == ["entry", "tail_chain", "tail_chain", "return"]
    starts = [c - e.cycles for c, e in out.events[:3]]
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [2000, 2000]


def test_armv6m_entry_and_return(tmp_path: Path) -> None:
    """Cortex-M0+ (ARMv6-M): SysTick entry and return with its own latencies."""
    body = SYSTICK_SETUP + """
wait:
    ldr r5, =ticks
    ldr r6, [r5]
    cmp r6, #2
    blt wait
""" + EXIT_OK + COUNT_TICKS + vectors(v15="systick_handler") + data("ticks")
    out = run_all(build(tmp_path, body, cpu="cortex-m0plus"), board="nucleo-g071rb")
    assert out.sim.stop_info is None and out.word("ticks") == 2
    lat, ws = latencies("cortex-m0plus"), vector_wait_states(out.sim)
    assert out.sim.exception_latency == {"entry": [2, 2 * (lat["entry"] + ws)],
                                         "return": [2, 2 * lat["exit"]]}



def test_sev_then_wfe_does_not_sleep(tmp_path: Path) -> None:
    """SEV sets the event register: the WFE after it returns at once (the HAL's
    SEV; WFE; WFE idiom then sleeps exactly once, until the tick)."""
    body = SYSTICK_SETUP + """
    sev
    wfe
    ldr r0, =ticks
    ldr r1, [r0]
    ldr r0, =after_first
    str r1, [r0]
    wfe
    ldr r0, =ticks
    ldr r1, [r0]
    ldr r0, =after_second
    str r1, [r0]
""" + EXIT_OK + COUNT_TICKS + vectors(v15="systick_handler") + data(
        "ticks", "after_first", "after_second")
    out = run_all(build(tmp_path, body))
    assert out.sim.stop_info is None
    assert (out.word("after_first"), out.word("after_second")) == (0, 1)
    assert out.sim.cycles > 2000

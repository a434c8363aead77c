"""Exception entry and return in the engine (sim/core/exceptions.py): handlers run and return to
the interrupted code with its registers intact, frames and stack pointers as the architecture
says, clear stops where the core cannot go on, and the same numbers on every accounting path
(tests/exc_programs.py)."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.asm import EXIT_OK, build
from tests.exc_programs import SYSTICK_SETUP, data, latencies, run_all, vector_wait_states, vectors


def test_systick_handler_returns_with_registers_intact(tmp_path: Path) -> None:
    """The handler clobbers every caller-saved register; the frame restores them, so the
    interrupted loop sees its values unchanged after each of the 5 ticks."""
    body = SYSTICK_SETUP + """
    ldr r0, =0x10101010
    ldr r1, =0x21212121
    ldr r2, =0x32323232
    ldr r3, =0x43434343
    ldr r12, =0x54545454
    ldr lr, =0x65656565
wait:
    ldr r5, =ticks
    ldr r6, [r5]
    cmp r6, #5
    blt wait
    ldr r5, =saved
    stm r5!, {r0, r1, r2, r3}
    str r12, [r5]
    str lr, [r5, #4]
""" + EXIT_OK + """
    .thumb_func
systick_handler:
    ldr r0, =ticks
    ldr r1, [r0]
    adds r1, #1
    str r1, [r0]
    movs r2, #0
    movs r3, #0
    mov r12, r2
    bx lr
""" + vectors(v15="systick_handler") + data("ticks", "saved", "s1", "s2", "s3", "s12", "slr")
    out = run_all(build(tmp_path, body))
    assert out.sim.stop_info is None and out.sim.semihosting.exit is not None
    assert out.word("ticks") == 5
    assert [out.word(n) for n in ("saved", "s1", "s2", "s3", "s12", "slr")] == [
        0x10101010, 0x21212121, 0x32323232, 0x43434343, 0x54545454, 0x65656565]
    lat, ws = latencies(), vector_wait_states(out.sim)
    assert out.sim.exception_latency == {"entry": [5, 5 * (lat["entry"] + ws)],
                                         "return": [5, 5 * lat["exit"]]}
    # Ticks come every 2000 cycles: each entry at or just after its wrap.
    starts = [c - e.cycles for c, e in out.events if e.kind == "entry"]
    assert all(abs(b - a - 2000) < 20 for a, b in zip(starts, starts[1:], strict=False)), starts


def test_svc_on_psp_frame_and_stack_pointers(tmp_path: Path) -> None:
    """Thread mode on the PSP, a PSP 4 bytes off 8-byte alignment: SVC stacks the 8-word
    frame 8-byte aligned below it with xPSR bit 9 set, the handler runs on the MSP with
    LR = 0xFFFFFFFD, and the return restores the PSP exactly and CONTROL.SPSEL."""
    body = """
    ldr r0, =0x20002004
    msr psp, r0
    movs r0, #2
    msr control, r0
    isb
    ldr r0, =0xA0A0A0A0
    ldr r1, =0xA1A1A1A1
    ldr r2, =0xA2A2A2A2
    ldr r3, =0xA3A3A3A3
    svc #3
    .global after_svc
after_svc:
    mov r4, sp
    mrs r5, control
    ldr r6, =thread_sp
    str r4, [r6]
    str r5, [r6, #4]
""" + EXIT_OK + """
    .thumb_func
svc_handler:
    ldr r0, =h_lr
    str lr, [r0]
    mrs r1, msp
    str r1, [r0, #4]
    mrs r1, psp
    str r1, [r0, #8]
    mrs r1, ipsr
    str r1, [r0, #12]
    mrs r2, psp
    ldm r2, {r1, r2, r3, r4, r5, r6, r7, r8}
    ldr r0, =frame
    stm r0, {r1, r2, r3, r4, r5, r6, r7, r8}
    bx lr
""" + vectors(v11="svc_handler") + data("h_lr", "h_msp", "h_psp", "h_ipsr", "thread_sp",
                                         "thread_control") + """
    .global frame
    .type frame, %object
frame: .space 32
    .size frame, 32
"""
    out = run_all(build(tmp_path, body))
    sim = out.sim
    assert sim.stop_info is None
    assert out.word("h_lr") == 0xFFFFFFFD
    assert out.word("h_ipsr") == 11
    assert out.word("h_psp") == 0x20002004 - 0x24  # 32 bytes + 4 of realignment
    assert out.word("h_msp") == sim.initial_sp
    words = struct.unpack("<8I", sim.read_symbol("frame"))
    after = sim.firmware.symbols.get("after_svc").address & ~1
    assert words[:4] == (0xA0A0A0A0, 0xA1A1A1A1, 0xA2A2A2A2, 0xA3A3A3A3)
    assert words[6] == after
    assert words[7] & (1 << 9) and words[7] & (1 << 24) and words[7] & 0x1FF == 0
    assert out.word("thread_sp") == 0x20002004
    assert out.word("thread_control") == 2
    (_, entry), (_, ret) = out.events
    assert (entry.kind, entry.number, entry.stack) == ("entry", 11, "psp")
    assert (entry.sp_before, entry.sp_after) == (0x20002004, 0x20002004 - 0x24)
    assert (ret.kind, ret.stack, ret.sp_after, ret.handler) == ("return", "psp", 0x20002004,
                                                               after)


def test_svc_inside_an_it_block_returns_to_the_rest_of_it(tmp_path: Path) -> None:
    """`ite eq; svceq; addne`: the stacked xPSR holds the IT state of the addne, so after the
    return it is skipped; `itt eq; svceq; addeq` runs its addeq."""
    body = """
    movs r4, #0
    movs r5, #0
    cmp r0, r0
    ite eq
    svceq #1
    addne r4, r4, #1
    cmp r0, r0
    itt eq
    svceq #2
    addeq r5, r5, #1
    ldr r0, =skipped
    str r4, [r0]
    str r5, [r0, #4]
""" + EXIT_OK + """
    .thumb_func
svc_handler:
    ldr r0, =calls
    ldr r1, [r0]
    adds r1, #1
    str r1, [r0]
    movs r1, #0
    cmp r1, #1
    bx lr
""" + vectors(v11="svc_handler") + data("skipped", "taken", "calls")
    out = run_all(build(tmp_path, body))
    assert out.sim.stop_info is None
    assert out.word("calls") == 2
    assert out.word("skipped") == 0
    assert out.word("taken") == 1


def test_bad_exc_return_stops_with_a_clear_fault(tmp_path: Path) -> None:
    body = """
    svc #0
""" + EXIT_OK + """
    .thumb_func
svc_handler:
    ldr r0, =0xFFFFFFF5
    bx r0
""" + vectors(v11="svc_handler")
    out = run_all(build(tmp_path, body))
    stop = out.sim.stop_info
    assert stop is not None and "EXC_RETURN 0xfffffff5" in stop.message and "INVPC" in stop.message


def test_endless_loop_in_a_handler_stops_at_once(tmp_path: Path) -> None:
    """`b .` as a handler (a vendor default handler) never returns, even with SysTick armed
    that could preempt it: the run stops there instead of spinning to a limit."""
    body = SYSTICK_SETUP + """
    svc #0
""" + EXIT_OK + """
    .thumb_func
default_handler:
    b .
""" + vectors(v11="default_handler", v15="default_handler")
    out = run_all(build(tmp_path, body))
    stop = out.sim.stop_info
    assert stop is not None and stop.kind == "limit"
    assert "Handler mode (exception 11)" in stop.message
    assert [e.kind for _, e in out.events] == ["entry"]


def test_svc_with_primask_set_escalates_to_hardfault(tmp_path: Path) -> None:
    """SVC while PRIMASK masks its priority cannot be taken: it escalates to HardFault
    (HFSR.FORCED), whose handler returns past the SVC."""
    body = """
    cpsid i
    svc #0
    cpsie i
    ldr r0, =done
    movs r1, #1
    str r1, [r0]
""" + EXIT_OK + """
    .thumb_func
hardfault:
    mrs r1, ipsr
    ldr r0, =h_ipsr
    str r1, [r0]
    ldr r2, =0xE000ED2C
    ldr r1, [r2]
    str r1, [r0, #4]
    bx lr
    .thumb_func
svc_handler:
    ldr r0, =svc_ran
    str r0, [r0]
    bx lr
""" + vectors(v3="hardfault", v11="svc_handler") + data("h_ipsr", "h_hfsr", "svc_ran", "done")
    out = run_all(build(tmp_path, body))
    assert out.sim.stop_info is None
    assert out.word("h_ipsr") == 3
    assert out.word("h_hfsr") & (1 << 30)  # FORCED
    assert out.word("svc_ran") == 0 and out.word("done") == 1
    assert [(e.kind, e.number) for _, e in out.events] == [("entry", 3), ("return", 3)]


def test_svc_in_hardfault_locks_up_with_a_clear_stop(tmp_path: Path) -> None:
    """SVC inside the HardFault handler can be neither taken nor escalated: lockup, reported
    as an escalated fault naming the SVC (the SVC is not counted as run)."""
    body = """
    cpsid i
    svc #0
""" + EXIT_OK + """
    .thumb_func
hardfault:
    svc #7
    bx lr
""" + vectors(v3="hardfault", v11="hardfault")
    out = run_all(build(tmp_path, body))
    stop = out.sim.stop_info
    assert stop is not None and stop.kind == "escalated_fault"
    assert "SVC #7" in stop.message
    assert [(e.kind, e.number) for _, e in out.events] == [("entry", 3)]


def test_unprivileged_thread_on_psp_enters_privileged_and_returns_unprivileged(
        tmp_path: Path) -> None:
    """CONTROL = nPRIV | SPSEL: the handler runs privileged on the MSP (it can write MSP),
    the return restores the unprivileged PSP thread (CONTROL reads 3; its MSR to MSP is
    ignored again)."""
    body = """
    ldr r0, =0x20002000
    msr psp, r0
    movs r0, #3
    msr control, r0
    isb
    svc #1
    mrs r4, control
    ldr r0, =0x20001000
    msr msp, r0
    mov r5, sp
    ldr r0, =t_control
    str r4, [r0]
    str r5, [r0, #4]
    svc #2
""" + EXIT_OK + """
    .thumb_func
svc_handler:
    mrs r0, msp
    ldr r2, =h_last
    str r0, [r2]
    subs r0, #8
    msr msp, r0
    mrs r1, msp
    adds r0, #8
    msr msp, r0
    ldr r2, =h_msp
    str r1, [r2]
    mrs r1, control
    str r1, [r2, #4]
    bx lr
""" + vectors(v11="svc_handler") + data("t_control", "t_sp", "h_msp", "h_control", "h_last")
    out = run_all(build(tmp_path, body))
    sim = out.sim
    assert sim.stop_info is None
    assert out.word("h_msp") == sim.initial_sp - 8  # privileged in the handler
    assert out.word("h_control") & 1  # nPRIV is kept (it only matters in Thread mode)
    assert out.word("t_control") == 3
    assert out.word("t_sp") == 0x20002000  # the PSP frame was popped
    # The thread's MSR to MSP did nothing: the second SVC's handler sees the MSP as it was.
    assert out.word("h_last") == sim.initial_sp
    assert [e.stack for _, e in out.events] == ["psp"] * 4


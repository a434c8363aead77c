"""Faults enter their handlers (issue 13 item 3): status bits as the hardware sets them, the
handler runs (and returns where it says), escalation to HardFault, lockup, and the stop report
with the decoded registers when the handler is a bare `b .` loop. Each kernels_c/exc/fault_*.c
program prints what its handlers saw; on mps2-an386 tests/test_reference_runs.py also compares
it with QEMU, whose output is the text below."""

from __future__ import annotations

import pytest

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main
from mcusim.sim.core import fault_status
from tests import asm
from tests.conftest import simulate

PATHS = {"python": {"native": False, "batched": False}, "native": {}}
V7M_BOARDS = ["mps2-an386", "nucleo-f446re", "nucleo-f103rb"]

# What QEMU 7.2 (mps2-an386) prints for each program.
EXPECTED = {
    "fault_bus": """\
BusFault: CFSR=00008200 HFSR=00000000 BFAR=30000000 at the fault site
resumed after 1 fault(s)
HardFault: CFSR=00008200 HFSR=40000000 BFAR=30000008 at the fault site
resumed after 2 fault(s)
""",
    "fault_mem": """\
MemManage: CFSR=00000001 HFSR=00000000 at the fault site
returned to main after 1 fault(s)
""",
    "fault_undef": """\
UsageFault: CFSR=00010000 HFSR=00000000 at the fault site
resumed after 1 fault(s)
HardFault: CFSR=00010000 HFSR=40000000 at the fault site
resumed after 2 fault(s)
""",
    "fault_div0": """\
100 / 0 = 0 without the trap
UsageFault: CFSR=02000000 HFSR=00000000 at the fault site
q = 99 after the trap (the divide did not complete)
100 / 4 = 25 with the trap set
1 fault(s)
""",
    "fault_unaligned": """\
unaligned ldr: 22221111
UsageFault: CFSR=01000000 HFSR=00000000 at the fault site
UsageFault: CFSR=01000000 HFSR=00000000 at the fault site
UsageFault: CFSR=01000000 HFSR=00000000 at the fault site
words 11111111 22222222, 3 fault(s)
""",
    "fault_invstate": """\
UsageFault: CFSR=00020000 HFSR=00000000 at the fault site
back in main after 1 fault(s); leaf() = 42
""",
}


def _numbers(run) -> tuple[int, int]:
    return run.result.cycles, run.result.instructions


@pytest.mark.parametrize("board", V7M_BOARDS)
@pytest.mark.parametrize("prog", sorted(EXPECTED))
def test_fault_program_enters_its_handler(kernels, prog, board):
    """The handler ran with the status bits of that fault, at the faulting instruction, and
    the program went on as it returned; both accounting paths count the same."""
    elf = kernels / board / f"{prog}.elf"
    runs = {path: simulate(elf, board, **flags) for path, flags in PATHS.items()}
    for run in runs.values():
        assert run.result.stop == "exit", run.result.fault
        assert run.stdout.decode() == EXPECTED[prog]
    assert _numbers(runs["python"]) == _numbers(runs["native"])


def test_armv6m_has_hardfault_only(kernels):
    """nucleo-g071rb (M0+): UDF and an unaligned word load both enter HardFault_Handler."""
    runs = [simulate(kernels / "nucleo-g071rb" / "fault_v6m.elf", "nucleo-g071rb", **flags)
            for flags in PATHS.values()]
    for run in runs:
        assert run.result.stop == "exit", run.result.fault
        assert run.stdout == (b"HardFault at the fault site\nHardFault at the fault site\n"
                              b"2 fault(s), v = 0\n")
    assert _numbers(runs[0]) == _numbers(runs[1])


def test_report_mode_keeps_todays_stop(kernels, capsys):
    elf = kernels / "nucleo-f446re" / "fault_bus.elf"
    rc = main(["run", str(elf), "--board", "nucleo-f446re", "--fault-handlers=report"])
    err = " ".join(capsys.readouterr().err.split())
    assert rc == ExitCode.MEMORY_FAULT
    assert "4-byte read at 0x30000000" in err and "at site_bus_load" in err
    assert "CFSR" not in err  # nothing entered, nothing recorded


# A vector table with the fault handlers a test names (0: none), then the test's code.
def _vectors(hard: str = "0", mem: str = "0", bus: str = "0", usage: str = "0") -> str:
    return f"""
    .section .isr_vector, "a"
    .word 0, {hard}, {mem}, {bus}, {usage}
    .text
"""


BARE_LOOP = """
    .thumb_func
hard:
    b hard
"""


@pytest.mark.parametrize("native", ["0", "1"])
def test_bare_loop_handler_stops_with_decoded_status(tmp_path, capsys, monkeypatch, native):
    monkeypatch.setenv("MCUSIM_NATIVE", native)
    elf = asm.build(tmp_path, _vectors(hard="hard") + """
        ldr r0, =0x30000000
        ldr r1, [r0]
    """ + asm.EXIT_OK + BARE_LOOP)
    assert main(["run", str(elf)]) == ExitCode.MEMORY_FAULT
    err = " ".join(capsys.readouterr().err.split())
    assert "4-byte read at 0x30000000" in err
    assert ("CFSR 0x00008200 = BusFault PRECISERR, BFAR valid 0x30000000; "
            "HFSR 0x40000000 = FORCED") in err
    assert "HardFault handler at hard (0x" in err and "infinite loop (b .)" in err
    assert "at reset+0x4 (pc 0x08000020)" in err  # the faulting load, not its block


def test_fault_in_hardfault_is_a_lockup(tmp_path, capsys):
    elf = asm.build(tmp_path, _vectors(hard="hard") + """
        udf #1
    """ + asm.EXIT_OK + """
        .thumb_func
    hard:
        ldr r0, =0x30000004
        ldr r1, [r0]
        b hard
    """)
    assert main(["run", str(elf)]) == ExitCode.MEMORY_FAULT
    err = " ".join(capsys.readouterr().err.split())
    assert "Lockup" in err and "(HardFault)" in err
    assert "UsageFault UNDEFINSTR" in err and "BusFault PRECISERR, BFAR valid 0x30000004" in err
    assert "FORCED" in err


HANDLER_STORES_STATUS = """
    .thumb_func
hard:
    ldr r0, =0xE000ED28
    ldr r1, [r0]          @ CFSR
    ldr r2, [r0, #4]      @ HFSR
    ldr r3, [r0, #8]      @ DFSR
    ldr r0, =0x20000200
    stmia r0!, {r1, r2, r3}
""" + asm.EXIT_OK


def _status(run) -> tuple[int, int, int]:
    data = run.sim.read_memory(0x20000200, 12)
    return tuple(int.from_bytes(data[i:i + 4], "little") for i in (0, 4, 8))  # type: ignore


@pytest.mark.parametrize("path", sorted(PATHS))
def test_bkpt_without_debugger_is_a_hardfault(tmp_path, path):
    elf = asm.build(tmp_path, _vectors(hard="hard") + "bkpt #3\n" + HANDLER_STORES_STATUS)
    run = simulate(elf, "nucleo-f446re", **PATHS[path])
    assert run.result.stop == "exit", run.result.fault
    assert _status(run) == (0, 0x80000000, 0x2)  # HFSR.DEBUGEVT, DFSR.BKPT


@pytest.mark.parametrize("path", sorted(PATHS))
def test_fault_in_its_own_handler_escalates(tmp_path, path):
    """A UsageFault in the UsageFault handler cannot preempt it (same priority): HardFault
    with HFSR.FORCED and both faults' bits."""
    elf = asm.build(tmp_path, _vectors(hard="hard", usage="usage") + """
        ldr r0, =0xE000ED24
        ldr r1, =0x40000      @ SHCSR.USGFAULTENA
        str r1, [r0]
        udf #1
        .thumb_func
    usage:
        ldr r0, =0x20000001
        ldrd r2, r3, [r0]     @ UNALIGNED, in the UsageFault handler
    """ + HANDLER_STORES_STATUS)
    run = simulate(elf, "nucleo-f446re", **PATHS[path])
    assert run.result.stop == "exit", run.result.fault
    cfsr, hfsr, _ = _status(run)
    assert cfsr == (1 << 16) | (1 << 24) and hfsr == 1 << 30


IT_BLOCK_FAULT = _vectors(hard="hard", bus="bus") + """
    ldr r0, =0xE000ED24
    ldr r1, =0x20000          @ SHCSR.BUSFAULTENA
    str r1, [r0]
    ldr r6, =0x20000100
    movs r5, #0
    movs r4, #0
    ldr r3, =0x30000000
    movs r0, #1
    cmp r0, #1                @ Z set: eq holds, ne does not
    itte eq
    streq r0, [r6]            @ a conditional store (hooked when accesses are recorded)
    ldreq r2, [r3]            @ BusFault inside the IT block
    addne r5, r5, #7          @ after the return: still in the IT block, skipped
    str r5, [r6, #4]
""" + asm.EXIT_OK + """
    .thumb_func
bus:
    movs r4, #0x55            @ run only if the handler starts outside any IT block
    str r4, [r6, #8]
    ldr r0, [sp, #24]
    adds r0, #2
    str r0, [sp, #24]         @ return past the faulting load
    bx lr
""" + BARE_LOOP


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("record", [False, True])
def test_restart_after_memory_fault_has_no_stale_it_state(tmp_path, path, record):
    """A bad access ends emu_start; the handler is entered and the run restarts there. With
    RAM access hooks present (recording, issue 14's restart bug) the handler's first block
    must not run as part of the interrupted IT block, and the return must resume the block's
    last slot as skipped; the recorded run equals the plain one."""
    elf = asm.build(tmp_path, IT_BLOCK_FAULT)
    run = simulate(elf, "nucleo-f446re", record_accesses=record, **PATHS[path])
    assert run.result.stop == "exit", run.result.fault
    words = run.sim.read_memory(0x20000100, 12)
    assert words == (1).to_bytes(4, "little") + bytes(4) + (0x55).to_bytes(4, "little")
    plain = simulate(elf, "nucleo-f446re", **PATHS[path])
    assert _numbers(plain) == _numbers(run)
    if record:
        log = run.sim.memory_tracker.log
        assert 0x20000108 in list(log.address)  # the handler's store was seen by the hooks


def test_unalign_trap_hook_only_while_set(kernels):
    """The every-instruction check of CCR.UNALIGN_TRP is removed when the bit is cleared, and
    the divide hooks of DIV_0_TRP likewise."""
    run = simulate(kernels / "nucleo-f446re" / "fault_unaligned.elf", "nucleo-f446re")
    assert run.result.stop == "exit"
    assert run.sim._unaligned_hook is None
    run = simulate(kernels / "nucleo-f446re" / "fault_div0.elf", "nucleo-f446re")
    assert run.sim._div_hooks == [] and run.sim._divides


def test_decoded_status_names_the_bits():
    text = fault_status.decode(0x00008200, 0x40000000, 0, 0x30000000)
    assert text == ("CFSR 0x00008200 = BusFault PRECISERR, BFAR valid 0x30000000; "
                    "HFSR 0x40000000 = FORCED")
    text = fault_status.decode(0x00000082, 0, 0x20001000, 0)
    assert text == "CFSR 0x00000082 = MemManage DACCVIOL, MMFAR valid 0x20001000; HFSR 0x00000000"


def test_stack_overflow_with_a_handler_still_says_so(tmp_path, capsys):
    """A recursion runs SP off RAM; the HardFault handler cannot be entered (no room for its
    frame): the report keeps the overflow diagnosis."""
    elf = asm.build(tmp_path, _vectors(hard="hard") + """
    again:
        push {r0-r7}
        bl again
        .thumb_func
    hard:
        movs r0, #1
        b hard
    """)
    assert main(["run", str(elf)]) == ExitCode.MEMORY_FAULT
    err = " ".join(capsys.readouterr().err.split())
    assert "stack overflow" in err and "frame cannot be pushed" in err


def test_fault_with_faultmask_set_is_a_lockup(tmp_path, capsys):
    """FAULTMASK raises the execution priority to -1: not even HardFault can be taken."""
    elf = asm.build(tmp_path, _vectors(hard="hard") + """
        cpsid f
        udf #2
    """ + asm.EXIT_OK + BARE_LOOP)
    assert main(["run", str(elf)]) == ExitCode.UNDEFINED_INSTRUCTION
    err = " ".join(capsys.readouterr().err.split())
    assert "Lockup" in err and "FAULTMASK set" in err and "UsageFault UNDEFINSTR" in err


def test_armv6m_bare_loop_report_has_no_status_registers(tmp_path, capsys):
    elf = asm.build(tmp_path, _vectors(hard="hard") + """
        udf #2
    """ + asm.EXIT_OK + BARE_LOOP, cpu="cortex-m0plus")
    assert main(["run", str(elf), "--board", "nucleo-g071rb"]) == \
        ExitCode.UNDEFINED_INSTRUCTION
    err = " ".join(capsys.readouterr().err.split())
    assert "HardFault (ARMv6-M records no fault status)" in err and "CFSR" not in err
    assert "infinite loop (b .)" in err


def test_a_bare_loop_handler_is_named_by_its_vector_among_its_aliases(tmp_path, capsys):
    """Start-up code makes every handler a weak alias of one loop: the report named whichever
    alias sorted first ("the HardFault handler at DebugMon_Handler"), not HardFault_Handler."""
    elf = asm.build(tmp_path, _vectors(hard="Default_Handler") + """
        ldr r0, =0x30000000
        ldr r1, [r0]
    """ + asm.EXIT_OK + """
    .thumb_func
    .weak DebugMon_Handler
    .weak HardFault_Handler
    .set DebugMon_Handler, Default_Handler
    .set HardFault_Handler, Default_Handler
    .type HardFault_Handler, %function
    .type DebugMon_Handler, %function
Default_Handler:
    b Default_Handler
""")
    assert main(["run", str(elf)]) == ExitCode.MEMORY_FAULT
    err = " ".join(capsys.readouterr().err.split())
    assert "HardFault handler at HardFault_Handler (0x" in err

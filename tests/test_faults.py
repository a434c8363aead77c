"""Every fault path stops the run with its report and its documented exit code."""

from __future__ import annotations

import pytest

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main
from tests import asm

CASES = {
    "unmapped_read": ("""
        ldr r0, =0x30000000
        ldr r1, [r0]
    """, ExitCode.MEMORY_FAULT, "4-byte read at 0x30000000, which is in no memory region"),
    "flash_write": ("""
        ldr r0, =0x08000100
        movs r1, #1
        str r1, [r0]
    """, ExitCode.MEMORY_FAULT, "write to 0x08000100 in flash region 'flash', which is read-only"),
    "undefined": ("""
        movs r0, #1
        udf #7
    """, ExitCode.UNDEFINED_INSTRUCTION, "undefined instruction"),
    "arm_state_jump": ("""
        ldr r0, =0x08000200
        bx r0
    """, ExitCode.UNDEFINED_INSTRUCTION, "ARM-state address"),
    "bkpt": ("""
        bkpt #1
    """, ExitCode.ESCALATED_FAULT, "BKPT #0x1"),
    "svc": ("""
        svc #5
    """, ExitCode.ESCALATED_FAULT, "SVC #5"),
    "self_loop": ("""
        movs r0, #1
    spin:
        b spin
    """, ExitCode.LIMIT_REACHED, "infinite loop: branch to itself at reset+0x2"),
    "reset_request": ("""
        ldr r0, =0xE000ED0C
        ldr r1, =0x05FA0004
        str r1, [r0]
        nop
    """, ExitCode.RESET_REQUESTED, "system reset (AIRCR.SYSRESETREQ)"),
    "jump_unmapped": ("""
        ldr r0, =0x30000001
        blx r0
    """, ExitCode.MEMORY_FAULT, "instruction fetch from 0x30000000"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fault_report_and_exit_code(case, tmp_path, capsys):
    body, code, message = CASES[case]
    elf = asm.build(tmp_path, body + asm.EXIT_OK)
    rc = main(["run", str(elf), "--board", "nucleo-f446re"])
    err = capsys.readouterr().err
    assert rc == code, err
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err
    assert "pc 0x08" in err or "pc 0x3" in err
    assert "  r0=" in err and "call stack" in err


def test_faulting_instruction_is_not_counted(tmp_path):
    from tests.conftest import simulate
    elf = asm.build(tmp_path, """
        movs r0, #1
        movs r1, #2
        ldr r2, =0x30000000
        ldr r3, [r2]
        movs r4, #3
    """)
    run = simulate(elf, "nucleo-f446re")
    assert run.result.stop == "memory_fault"
    assert run.result.instructions == 3  # movs, movs, ldr= ; the faulting load did not complete
    fault = run.result.fault
    assert fault.registers["pc"] == fault.pc
    assert run.sim.read_memory(fault.pc, 2) == bytes.fromhex("1368")  # ldr r3, [r2]


def test_call_stack_names_the_callers(tmp_path, capsys):
    elf = asm.build(tmp_path, """
        bl outer
    outer:
        push {r4, lr}
        bl inner
        pop {r4, pc}
        .thumb_func
        .type inner, %function
    inner:
        ldr r0, =0x30000000
        ldr r0, [r0]
        bx lr
        .size inner, . - inner
    """)
    assert main(["run", str(elf), "--board", "nucleo-f446re"]) == ExitCode.MEMORY_FAULT
    err = capsys.readouterr().err
    assert "#0 inner+0x4" in err  # after the 32-bit literal load
    assert "#1 reset+0xa" in err  # LR: the return into outer (a label inside reset)
    assert "#2 reset+0x4" in err  # outer's own return address, found on the stack


@pytest.mark.parametrize("flag,limit", [("--max-instructions", 1000), ("--max-cycles", 500)])
def test_limit_stops_an_endless_loop(flag, limit, tmp_path, capsys):
    elf = asm.build(tmp_path, """
    again:
        adds r0, #1
        b again
    """)
    rc = main(["run", str(elf), "--board", "nucleo-f446re", flag, str(limit)])
    err = capsys.readouterr().err
    assert rc == ExitCode.LIMIT_REACHED
    assert f"{flag} {limit}" in err and "None" not in err
    # The run stops before the first block that would pass the limit: one block of this loop
    # is 2 instructions and at most 3 cycles (adds 1, taken branch 1 + P).
    counted = "\ninstructions" if flag == "--max-instructions" else "\ncycles"
    count = int(err.split(counted)[1].split()[0].replace(",", ""))
    assert limit - 3 <= count <= limit


def test_instruction_limit_named_when_first_block_is_cut(tmp_path, capsys):
    elf = asm.build(tmp_path, "bl f\n" + asm.EXIT_OK
                    + "\n.thumb_func\nf: push {lr}\n adds r0, #1\n adds r0, #2\n pop {pc}\n")
    assert main(["run", str(elf), "--max-instructions", "3"]) == ExitCode.LIMIT_REACHED
    err = capsys.readouterr().err
    assert "--max-instructions 3" in err and "--max-cycles" not in err


@pytest.mark.parametrize("wait", ["wfi", "wfe"])
def test_waiting_for_an_interrupt_ends_the_run(wait, tmp_path, capsys):
    elf = asm.build(tmp_path, f"""
    movs r0, #1
sleep:
    {wait}
    b sleep
    """)
    assert main(["run", str(elf)]) == ExitCode.LIMIT_REACHED
    err = " ".join(capsys.readouterr().err.split())
    assert f"{wait.upper()} at reset+0x2: the core waits for an interrupt" in err


@pytest.mark.parametrize("native", [False, None])
def test_stack_overflow_is_named_without_profiling(tmp_path, capsys, native, monkeypatch):
    """A recursion that never ends runs SP off the bottom of RAM: the fault says so, with or
    without --profile, on both paths (issue 14)."""
    if native is False:
        monkeypatch.setenv("MCUSIM_NATIVE", "0")
        from mcusim.sim.accounting import native_lib as native_path
        monkeypatch.setattr(native_path, "_library", None)
        monkeypatch.setattr(native_path, "_load_error", None)
    elf = asm.build(tmp_path, """
again:
    push {r0-r7}
    bl again
""")
    for extra in ([], ["--profile"]):
        assert main(["run", str(elf), *extra]) == ExitCode.MEMORY_FAULT
        assert "stack overflow" in capsys.readouterr().err


@pytest.mark.parametrize("native", ["0", "1"])
def test_max_stack_stops_the_run_when_passed(tmp_path, capsys, native, monkeypatch):
    """--max-stack ends the run at the block that passes it, not after the run (a recursion
    that never ends stops there, well before it runs off RAM)."""
    from mcusim.sim.accounting import native_lib as native_path

    monkeypatch.setenv("MCUSIM_NATIVE", native)
    monkeypatch.setattr(native_path, "_library", None)
    monkeypatch.setattr(native_path, "_load_error", None)
    elf = asm.build(tmp_path, """
again:
    push {r0-r7}
    bl again
""")
    out = tmp_path / "r.json"
    assert main(["run", str(elf), "--max-stack", "1K", "--json", str(out)]) == \
        ExitCode.MEMORY_BUDGET
    err = capsys.readouterr().err
    assert "--max-stack" in err and "stack overflow" not in err
    import json

    data = json.loads(out.read_text())
    # 32 bytes per level: the run stops in the level that passes 1024 bytes.
    assert data["stop"] == "memory_budget"
    assert 1024 < data["memory"]["stack_peak_bytes"] <= 1024 + 32

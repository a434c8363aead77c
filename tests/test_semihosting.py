"""Semihosting as newlib uses it, the host file-system jail, and program arguments."""

from __future__ import annotations

import errno

from mcusim.isa.timing import NaiveTiming
from mcusim.memory.board import available_boards
from mcusim.sim.cli import main
from tests import asm
from tests.conftest import ROOT, simulate

RESULTS = 0x20001000  # where the assembly programs below store what each call returned


def _sys(op: int, block: str, slot: int) -> str:
    """Assembly for one semihosting call whose r0 lands in RESULTS[slot]."""
    return f"""
    movs r0, #{op}
    ldr r1, ={block}
    bkpt 0xab
    ldr r2, ={RESULTS:#x}
    str r0, [r2, #{4 * slot}]
    """


def _errno(slot: int) -> str:
    return f"""
    movs r0, #0x13
    bkpt 0xab
    ldr r2, ={RESULTS:#x}
    str r0, [r2, #{4 * slot}]
    """


def _results(run, n: int) -> list[int]:
    raw = run.sim.read_memory(RESULTS, 4 * n)
    vals = [int.from_bytes(raw[4 * i:4 * i + 4], "little") for i in range(n)]
    return [v - (1 << 32) if v & 0x80000000 else v for v in vals]


def _open_block(label: str, path: str, mode: int) -> str:
    return f"""
    .align 2
{label}: .word {label}_s, {mode}, {len(path)}
{label}_s: .asciz "{path}"
    .align 2
"""


def test_files_are_confined_to_the_fs_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    body = (
        _sys(0x01, "open_escape", 0) + _errno(1)
        + _sys(0x01, "open_abs", 2) + _errno(3)
        + _sys(0x01, "open_new", 4)
        + """
    ldr r2, =0x20001000
    ldr r3, [r2, #16]
    ldr r1, =write_block
    str r3, [r1]
    movs r0, #0x05
    bkpt 0xab
    ldr r2, =0x20001000
    str r0, [r2, #20]
    ldr r1, =write_block
    movs r0, #0x02
    bkpt 0xab
    """ + asm.EXIT_OK + """
    .pool
    """ + _open_block("open_escape", "../secret.txt", 0)
        + _open_block("open_abs", str(tmp_path / "secret.txt"), 0)
        + _open_block("open_new", "made/by/program.txt", 4)
        + """
    .data
    .align 2
write_block: .word 0, hello_s, 5
hello_s: .ascii "hello"
""")
    (root / "made" / "by").mkdir(parents=True)
    # The write block lives in RAM, so put it where the program expects it: link .data at RAM
    # and let the loader place it (no startup copy in this tiny program).
    elf = asm.build(tmp_path, body)
    run = simulate(elf, "nucleo-f446re", fs_root=root)
    assert run.result.exit_code == 0
    esc, esc_errno, abs_, abs_errno, new_handle, write_left = _results(run, 6)
    assert (esc, esc_errno) == (-1, errno.EACCES)
    assert (abs_, abs_errno) == (-1, errno.EACCES)
    assert new_handle > 0
    assert (tmp_path / "secret.txt").read_text() == "outside"


def test_exit_code_argv_and_file_read_via_newlib(kernels, capsys):
    rc = main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--fs-root", str(ROOT),
               "--", "one", "--two"])
    out = capsys.readouterr().out
    assert rc == 3
    assert "hello: int 42, string mcusim" in out
    assert "Hello from a host file via semihosting." in out
    assert "argc: 3" in out and "argv[2]: --two" in out


def test_an_argument_with_a_space_is_split_as_on_qemu_and_mcusim_says_so(kernels, capsys):
    """The command line is one string (QEMU and debug probes join the words with spaces) that
    newlib's start-up splits: 'b c' arrives as two arguments, which the user is told."""
    rc = main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--fs-root", str(ROOT),
               "--", "a", "b c"])
    captured = capsys.readouterr()
    assert rc == 3 and "argc: 4" in captured.out and "argv[3]: c" in captured.out
    err = " ".join(captured.err.split())
    assert "warning: program argument 'b c': the semihosting command line joins" in err
    assert main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--fs-root", str(ROOT),
                 "--", "a", "b"]) == 3
    assert "program argument" not in capsys.readouterr().err


def test_missing_file_is_an_error_for_the_program_not_for_mcusim(kernels, tmp_path):
    run = simulate(kernels / "nucleo-f446re" / "hello.elf", "nucleo-f446re", fs_root=tmp_path)
    assert run.result.stop == "exit" and run.result.exit_code == 1
    assert b"cannot open" in run.stdout


def test_clock_and_time_are_simulated_and_deterministic(tmp_path):
    body = _sys(0x10, "0", 0) + """
    ldr r3, =20000
spin:
    subs r3, #1
    bne spin
    """ + _sys(0x10, "0", 1) + _sys(0x31, "0", 2) + asm.EXIT_OK
    elf = asm.build(tmp_path, body)
    first = _results(simulate(elf, "nucleo-f446re", clock="1MHz", timing=NaiveTiming()), 3)
    again = _results(simulate(elf, "nucleo-f446re", clock="1MHz", timing=NaiveTiming()), 3)
    assert first == again
    clock0, clock1, tickfreq = first
    assert tickfreq == 1_000_000
    assert clock0 == 0
    # 40,000 loop instructions at 1 MHz (naive timing) are 4 centiseconds of simulated time.
    assert clock1 == 4


def test_uart_console_reaches_stdout_on_every_board(kernels):
    for board in available_boards():
        run = simulate(kernels / board / "uart_hello.elf", board)
        assert run.result.exit_code == 0, board
        assert b"hello from the console UART" in run.stdout, board

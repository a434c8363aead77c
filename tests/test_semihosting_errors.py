"""Bad semihosting arguments go back to the program as errno values, as a debug probe answers
them (EFAULT, EBADF, EINVAL), instead of ending mcusim with an internal error (issue 14)."""

from __future__ import annotations

import errno
import time

import pytest

from mcusim.sim.cli import main

from .asm import build

RAM = 0x20000000
FLASH = 0x08000000

# Each case: semihosting calls (op, words of its argument block; "H" is the handle the last
# SYS_OPEN returned), after which the program exits with SYS_ERRNO's value as its exit code.
STDOUT_OPEN = (0x01, ["tt", 4, 3])
FEATURES_OPEN = (0x01, ["features", 0, 21])
CASES = {
    "open name with a NUL": ([(0x01, ["nul", 0, 3])], errno.EINVAL),
    "open name at a bad pointer": ([(0x01, [0xF0000000, 0, 4])], errno.EFAULT),
    "read from a file opened for writing": ([(0x01, ["wfile", 4, 5]), (0x06, ["H", RAM, 4])],
                                            errno.EBADF),
    # (t.s: the assembly source beside the ELF, opened "r" (mode 0); EIO before)
    "write to a file opened for reading": ([(0x01, ["rfile", 0, 3]), (0x05, ["H", RAM, 4])],
                                           errno.EBADF),
    "write from a bad pointer": ([STDOUT_OPEN, (0x05, ["H", 0xF0000000, 4])], errno.EFAULT),
    "write of 4 GiB": ([STDOUT_OPEN, (0x05, ["H", RAM, 0xFFFFFFFF])], errno.EFAULT),
    "read into flash": ([FEATURES_OPEN, (0x06, ["H", FLASH, 4])], errno.EFAULT),
    "read into a bad pointer": ([FEATURES_OPEN, (0x06, ["H", 0xF0000000, 4])], errno.EFAULT),
    "argument block at a bad pointer": ([(0x05, None)], errno.EFAULT),
    "write0 from a bad pointer": ([(0x04, 0xF0000000)], errno.EFAULT),
    "elapsed into flash": ([(0x30, FLASH)], errno.EFAULT),
}


def program(calls: list[tuple[int, object]]) -> str:
    """The calls' argument blocks are built in RAM as the program runs (the tiny ELFs have no
    start-up code to copy .data); the strings they point to are in flash."""
    lines = []
    for n, (op, block) in enumerate(calls):
        if block is None:
            lines.append("    ldr r1, =0xF0000000")
        elif isinstance(block, int):
            lines.append(f"    ldr r1, ={block:#x}")
        else:
            lines.append(f"    ldr r1, ={RAM + 0x200 + 16 * n:#x}")
            for k, w in enumerate(block):
                value = "r5" if w == "H" else "r3"
                if w != "H":
                    lines.append(f"    ldr r3, ={w if isinstance(w, str) else hex(w)}")
                lines.append(f"    str {value}, [r1, #{4 * k}]")
        lines += [f"    movs r0, #{op:#x}", "    bkpt 0xab", "    mov r5, r0"]
    lines += ["    movs r0, #0x13", "    bkpt 0xab",  # SYS_ERRNO
              f"    ldr r2, ={RAM + 0x100:#x}", "    ldr r3, =0x20026", "    str r3, [r2]",
              "    str r0, [r2, #4]", "    mov r1, r2", "    movs r0, #0x20", "    bkpt 0xab",
              "    .pool", 'tt: .asciz ":tt"', 'features: .asciz ":semihosting-features"',
              'nul: .ascii "a\\000b"', 'wfile: .asciz "w.txt"', 'rfile: .asciz "t.s"']
    return "\n".join(lines)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_arguments_give_errno(tmp_path, capsys, case):
    calls, expected = CASES[case]
    elf = build(tmp_path, program(calls))
    flash_before = elf.read_bytes()
    start = time.monotonic()
    rc = main(["run", str(elf), "--fs-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert "internal error" not in err and "fault" not in err, err
    assert rc == expected, err
    assert time.monotonic() - start < 5
    assert elf.read_bytes() == flash_before


def test_a_command_line_too_long_for_the_program_is_an_error(kernels, capsys):
    """newlib's crt0 offers a 256-byte buffer: a longer command line used to become an empty
    argv without a word."""
    elf = kernels / "nucleo-f446re" / "hello.elf"
    rc = main(["run", str(elf), "--", "x" * 300])
    err = capsys.readouterr().err
    assert rc == 64 and "does not fit" in err and "internal error" not in err

"""Bad input gets a one-paragraph message naming the problem and a documented exit code."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main
from tests import asm


def run_cli(capsys, *args: str) -> tuple[int, str]:
    rc = main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, " ".join(err.split())


def test_missing_elf(capsys, tmp_path):
    rc, err = run_cli(capsys, "run", str(tmp_path / "nope.elf"))
    assert rc == ExitCode.NO_INPUT
    assert "nope.elf does not exist" in err


def test_directory_instead_of_elf(capsys, tmp_path):
    rc, err = run_cli(capsys, "run", str(tmp_path))
    assert rc == ExitCode.NO_INPUT
    assert "is a directory" in err


def test_not_an_elf(capsys, tmp_path):
    f = tmp_path / "app.bin"
    f.write_bytes(b"\x00\x10\x00\x20\x01\x01\x00\x08" * 8)
    rc, err = run_cli(capsys, "run", str(f))
    assert rc == ExitCode.BAD_INPUT
    assert "is not an ELF file" in err and "raw .bin" in err


def test_an_empty_file_is_said_to_be_empty(capsys, tmp_path):
    f = tmp_path / "app.elf"
    f.write_bytes(b"")
    rc, err = run_cli(capsys, "run", str(f))
    assert rc == ExitCode.BAD_INPUT and "is not an ELF file (it is empty)" in err


def test_truncated_elf(capsys, tmp_path):
    elf = asm.build(tmp_path, asm.EXIT_OK)
    cut = tmp_path / "cut.elf"
    cut.write_bytes(elf.read_bytes()[:200])
    rc, err = run_cli(capsys, "run", str(cut))
    assert rc == ExitCode.BAD_INPUT
    assert "truncated or corrupt ELF" in err


def test_elf_for_another_architecture(capsys):
    host = shutil.which("true") or sys.executable
    rc, err = run_cli(capsys, "run", host)
    assert rc == ExitCode.BAD_INPUT
    assert "not for 32-bit little-endian ARM" in err


def test_arm_mode_elf(capsys, tmp_path):
    src = tmp_path / "a.c"
    src.write_text("int main(void) { return 0; }\n")
    elf = tmp_path / "a.elf"
    subprocess.run(["arm-none-eabi-gcc", "-marm", "-mcpu=cortex-a7", "-nostdlib", "-e", "main",
                    "-Ttext=0x08000000", str(src), "-o", str(elf)], check=True)
    rc, err = run_cli(capsys, "run", str(elf))
    assert rc == ExitCode.BAD_INPUT
    assert "A-profile core (ARM state)" in err


def test_arm_state_reset_vector(capsys, tmp_path):
    elf = asm.build(tmp_path, asm.EXIT_OK.replace("bkpt 0xab", "bkpt 0xab\n    .word 0"))
    data = bytearray(elf.read_bytes())
    # Clear the Thumb bit of the reset vector (the second word of the vector table).
    off = data.find((0x08000009).to_bytes(4, "little"))
    assert off > 0
    data[off] = 0x08
    bad = tmp_path / "arm_vector.elf"
    bad.write_bytes(bytes(data))
    rc, err = run_cli(capsys, "run", str(bad))
    assert rc == ExitCode.BAD_INPUT
    assert "ARM-state address (bit 0 clear)" in err


def test_no_loadable_segment(capsys, tmp_path):
    obj = tmp_path / "empty.o"
    (tmp_path / "empty.s").write_text("    .section .comment\n    .ascii \"x\"\n")
    subprocess.run(["arm-none-eabi-as", str(tmp_path / "empty.s"), "-o", str(obj)], check=True)
    elf = tmp_path / "empty.elf"
    subprocess.run(["arm-none-eabi-ld", str(obj), "-o", str(elf)], check=True,
                   capture_output=True)
    rc, err = run_cli(capsys, "run", str(elf))
    assert rc == ExitCode.BAD_INPUT
    assert "no loadable (PT_LOAD) segment" in err


def test_no_vector_table(capsys, tmp_path):
    elf = asm.build(tmp_path, asm.EXIT_OK, flash=0x08010000)
    rc, err = run_cli(capsys, "run", str(elf), "--board", "nucleo-f446re")
    assert rc == ExitCode.BAD_INPUT
    assert "has no vector table" in err and "0x00000000" in err


def test_segment_outside_the_board(capsys, tmp_path):
    elf = asm.build(tmp_path, asm.EXIT_OK + "\n    .data\n    .word 1\n", ram=0x20010000)
    # nucleo-f103rb has 20 KiB of SRAM: 0x20010000 is past its end.
    rc, err = run_cli(capsys, "run", str(elf), "--board", "nucleo-f103rb")
    assert rc == ExitCode.BAD_INPUT
    assert "does not fit the memory of board nucleo-f103rb" in err
    assert "0x20010000" in err and "sram 0x20000000-0x20004fff" in err


@pytest.mark.parametrize("args,code,message", [
    (["run", "x.elf", "--board", "nucleo-nope"], ExitCode.USAGE, "unknown board 'nucleo-nope'"),
    (["run", "x.elf", "--clock", "fast"], ExitCode.USAGE, "--clock: 'fast' is not a frequency"),
    (["run", "x.elf", "--max-instructions", "-5"], ExitCode.USAGE, "expected a positive number"),
    (["run"], ExitCode.USAGE, "required: elf"),
    (["frobnicate"], ExitCode.USAGE, "invalid choice"),
])
def test_bad_command_lines(capsys, args, code, message):
    rc, err = run_cli(capsys, *args)
    assert rc == code
    assert message in err
    assert err.startswith("mcusim: error:")

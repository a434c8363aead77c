"""Small user-facing fixes of issue 14, item 9."""

from __future__ import annotations

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main

from .asm import build


def test_undefined_instruction_names_its_opcode(tmp_path, capsys):
    elf = build(tmp_path, "    .hword 0xdeff\n")
    assert main(["run", str(elf)]) == ExitCode.UNDEFINED_INSTRUCTION
    err = capsys.readouterr().err
    assert "0xdeff" in err
    assert "undefined instruction: undefined instruction" not in err


def test_boards_table_names_cores_as_run_does_and_code_ram(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    assert "cortex-m4" in out and "cortex-m0plus" in out
    mps2 = next(line for line in out.splitlines() if "mps2-an386" in line)
    assert "4 MiB" in mps2 and "0 B" not in mps2


def test_piped_output_is_not_cut_at_80_columns(tmp_path, capsys):
    elf = build(tmp_path, """
    bl a_function_with_a_very_long_name_that_would_not_fit_in_eighty_columns_at_all
    movs r0, #0x18
    ldr r1, =0x20026
    bkpt 0xab
    .thumb_func
    .global a_function_with_a_very_long_name_that_would_not_fit_in_eighty_columns_at_all
a_function_with_a_very_long_name_that_would_not_fit_in_eighty_columns_at_all:
    bx lr
""")
    assert main(["run", str(elf), "--profile"]) == 0
    err = capsys.readouterr().err
    assert "a_function_with_a_very_long_name_that_would_not_fit_in_eighty_columns_at_all" in err
    assert "…" not in err


def test_validate_without_kernels_says_how_to_build_them(tmp_path, capsys):
    assert main(["validate", "--kernels-dir", str(tmp_path)]) == ExitCode.NO_INPUT
    err = capsys.readouterr().err
    assert f"make -C {tmp_path}" in err

"""`mcusim nn --emit DIR` over a directory it wrote before: files the user edited since are
kept (exit 73 naming the file, --force replaces them); unchanged ones are rewritten. No
firmware is built or run here."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcusim.nn.codegen import generate
from mcusim.nn.emit import MARKER, emit
from mcusim.nn.reference import default_inputs
from mcusim.nn.run import prepare
from mcusim.nn.sim_api import OutputError
from mcusim.nn.tflite_import import load_model
from mcusim.sim.cli import main

DIGITS = Path(__file__).resolve().parents[1] / "nn" / "models" / "digits_cnn_int8.tflite"


def emit_digits(directory: Path, force: bool = False) -> list[Path]:
    g = load_model(DIGITS)
    p = prepare(g, "nucleo-f446re")
    return emit(directory, g, generate(p.graph, p.schedule, p.plan), p.board.name,
                default_inputs(g), force, p.cflags)


def test_a_rerun_keeps_files_the_user_edited(tmp_path, capsys):
    d = tmp_path / "fw"
    written = emit_digits(d)
    assert {w.name for w in written} == {"model.c", "main.c", "input_data.h", "Makefile"}
    first = {w.name: w.read_text() for w in written}
    assert emit_digits(d) == written  # unchanged files are simply rewritten
    (d / "model.elf").write_text("a build product")  # files mcusim does not write: no matter
    assert emit_digits(d) == written
    main_c = d / "main.c"
    main_c.write_text(main_c.read_text() + "/* USER EDIT */\n")
    with pytest.raises(OutputError, match=r"main\.c changed since mcusim nn wrote it.*--force"):
        emit_digits(d)
    assert main_c.read_text().endswith("/* USER EDIT */\n")
    # The command line says the same, exits 73 and writes nothing.
    assert main(["nn", str(DIGITS), "--emit", str(d)]) == 73
    err = " ".join(capsys.readouterr().err.split())
    assert f"{main_c} changed since mcusim nn wrote it" in err and "--force" in err
    assert main_c.read_text().endswith("/* USER EDIT */\n")
    emit_digits(d, force=True)
    assert main_c.read_text() == first["main.c"]


def test_files_the_manifest_does_not_list_are_kept(tmp_path):
    d = tmp_path / "fw"
    emit_digits(d)
    (d / MARKER).write_text("digits_cnn_int8 nucleo-f446re\n")  # an older mcusim's marker
    with pytest.raises(OutputError, match="was not written by mcusim nn"):
        emit_digits(d)
    (d / "model.c").unlink()
    (d / "main.c").unlink()
    (d / "input_data.h").unlink()
    (d / "Makefile").unlink()
    assert len(emit_digits(d)) == 4  # nothing there to lose


def test_the_folder_is_made_but_not_its_parents(tmp_path, capsys):
    """As every output (base/outputs.py), and `mcusim dse --out`: DIR is made, a missing
    parent is refused."""
    with pytest.raises(OutputError, match="does not exist"):
        emit_digits(tmp_path / "typo" / "fw")
    assert not (tmp_path / "typo").exists()
    assert main(["nn", str(DIGITS), "--emit", str(tmp_path / "typo" / "fw")]) == 73
    assert f"directory {tmp_path / 'typo'} does not exist" in capsys.readouterr().err
    assert {w.name for w in emit_digits(tmp_path / "fw")} >= {"model.c", "Makefile"}

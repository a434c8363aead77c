"""`mcusim nn`'s outputs follow the rule of every mcusim output (base/outputs.py): `--json -` is
standard output (the report then goes to stderr), an input is never written over (not even with
--force), two outputs never share a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main
from tests.nn_synth import small_cnn


@pytest.fixture(scope="module", autouse=True)
def nn_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MCUSIM_CACHE", str(tmp_path_factory.mktemp("nn-cache")))
        yield


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "small.tflite"
    path.write_bytes(small_cnn())
    return path


def test_json_dash_is_standard_output_and_the_report_goes_to_stderr(small_model, tmp_path,
                                                                     capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["nn", str(small_model), "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["schema"] == "mcusim.nn/1"  # stdout is the JSON alone
    assert "outputs match the reference" in err
    assert not (tmp_path / "-").exists()  # it wrote no file named '-'


def test_the_model_is_never_an_output_even_with_force(small_model, tmp_path, capsys):
    model = tmp_path / "m.tflite"
    model.write_bytes(small_model.read_bytes())
    assert main(["nn", str(model), "--json", str(model), "--force"]) == ExitCode.CANT_WRITE
    assert "that is an input of this command" in capsys.readouterr().err
    assert model.read_bytes() == small_model.read_bytes()
    x = tmp_path / "x.npy"
    x.write_bytes(b"\x93NUMPY")  # refused before it is read
    assert main(["nn", str(model), "--input", str(x), "--json", str(x),
                 "--force"]) == ExitCode.CANT_WRITE
    assert x.read_bytes() == b"\x93NUMPY"


def test_json_and_plot_on_one_file_are_refused_before_the_run(small_model, tmp_path, capsys):
    same = tmp_path / "same.png"
    rc = main(["nn", str(small_model), "--schedule", "pex", "--json", str(same), "--plot",
               str(same)])
    assert rc == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "are the same file" in err and "building" not in err
    assert not same.exists()


def test_an_existing_file_is_replaced_only_if_it_is_an_earlier_result(small_model, tmp_path):
    out = tmp_path / "r.json"
    assert main(["nn", str(small_model), "--json", str(out)]) == 0
    assert main(["nn", str(small_model), "--json", str(out)]) == 0  # mcusim's own: replaced
    mine = tmp_path / "mine.json"
    mine.write_text("my notes\n")
    assert main(["nn", str(small_model), "--json", str(mine)]) == ExitCode.CANT_WRITE
    assert mine.read_text() == "my notes\n"
    assert main(["nn", str(small_model), "--json", str(mine), "--force"]) == 0
    assert json.loads(mine.read_text())["schema"] == "mcusim.nn/1"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # written atomically


@pytest.mark.parametrize(("spec", "code", "says"), [
    # a missing schedule file is a missing input (66), as for the model and --input; it was a
    # usage error (64) that named only layers, pex and pex:N
    ("nonexistent.json", ExitCode.NO_INPUT, "no such schedule file"),
    ("sub/dir/sched", ExitCode.NO_INPUT, "no such schedule file"),
    ("models", ExitCode.NO_INPUT, "is a directory"),
    ("bogus", ExitCode.USAGE, "expected layers, pex, pex:N, patch, patch:B"),
])
def test_schedule_specs_that_are_not_schedules(small_model, tmp_path, capsys, monkeypatch,
                                                spec, code, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    assert main(["nn", str(small_model), "--schedule", spec]) == code
    assert says in capsys.readouterr().err

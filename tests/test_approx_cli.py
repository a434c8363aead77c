"""`mcusim dse` and `--approx` configurations: bad input gets a clear message and the documented
exit code (no firmware is built here)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from mcusim.nn.approx.config import ApproxConfig, LayerLevel
from mcusim.nn.approx.nn_option import schedule_for
from mcusim.nn.sim_api import InputError, MissingInputError, OutputError
from mcusim.nn.tflite_import import load_model
from mcusim.sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "nn" / "models" / "digits_cnn_int8.tflite"
DIGITS_TEST = ROOT / "nn" / "models" / "digits_test.npz"


def dse(*argv: str) -> int:
    return main(["dse", *argv])


def test_missing_model_and_data(tmp_path, capsys):
    assert dse(str(tmp_path / "no.tflite"), "--board", "nucleo-f446re", "--data",
               str(DIGITS_TEST)) == 66
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(tmp_path / "no.npz")) \
        == 66
    assert "does not exist" in capsys.readouterr().err


def test_data_of_the_wrong_shape(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((4, 8, 8, 1), np.int8))
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(bad), "--out",
               str(tmp_path / "o")) == 65
    err = capsys.readouterr().err
    assert "the model wants int8 (N, 16, 16, 1)" in err and "Traceback" not in err
    nox = tmp_path / "nox.npz"
    np.savez(nox, y=np.zeros(3))
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(nox)) == 65
    assert "has no array 'x'" in capsys.readouterr().err


@pytest.mark.parametrize("opts", [["--levels", "0.2,abc"], ["--levels", "1.5"],
                                  ["--jobs", "-1"], ["--layers", "x"], ["--max-grid", "-5"]])
def test_bad_options_are_usage_errors(tmp_path, opts):
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(DIGITS_TEST), "--out",
               str(tmp_path / "o"), *opts) == 64


def test_layers_must_be_conv_or_fc(tmp_path, capsys):
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(DIGITS_TEST), "--out",
               str(tmp_path / "o"), "--layers", "1") == 65
    assert "not CONV_2D / FULLY_CONNECTED" in capsys.readouterr().err


def test_out_folder_not_ours_is_kept(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "points.json").write_text('{"mine": 1}')
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(DIGITS_TEST), "--out",
               str(out)) == 73
    assert (out / "points.json").read_text() == '{"mine": 1}'


@pytest.mark.parametrize("name", ["points.csv", "pareto.png", "significance.npz",
                                  "cache.jsonl", "best-0pp.json"])
def test_no_file_of_the_user_in_out_is_replaced(tmp_path, capsys, name):
    """Every file dse writes there, not points.json alone: each is refused unless it is dse's,
    before any work (cache.jsonl would be appended to)."""
    out = tmp_path / "o"
    out.mkdir()
    (out / name).write_bytes(b"my own notes\n")
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(DIGITS_TEST), "--out",
               str(out)) == 73
    err = capsys.readouterr().err
    assert f"{name} there was not written by mcusim dse" in err and "--force" in err
    assert (out / name).read_bytes() == b"my own notes\n"


def test_what_dse_wrote_is_its_own(tmp_path):
    """An earlier study's files (a finished one, and the two an interrupted first one leaves)
    are recognised; a user's file beside them is not."""
    from mcusim.nn.approx.cli import _check_out
    from mcusim.nn.approx.significance import LayerSignificance, save_significance
    from mcusim.nn.approx.study import MeasureCache

    out = tmp_path / "o"
    out.mkdir()
    save_significance({2: LayerSignificance(2, np.zeros((2, 3)))}, out / "significance.npz")
    MeasureCache(out / "cache.jsonl", "id").put("k", {"cycles": 1})
    _check_out(out, force=False)
    (out / "points.csv").write_text("mine\n")
    with pytest.raises(OutputError, match="points.csv there was not"):
        _check_out(out, force=False)
    _check_out(out, force=True)


def test_config_files(tmp_path):
    good = tmp_path / "a.toml"
    good.write_text('[layers]\n"L02_CONV_2D" = {skip = 0.25}\n5 = {threshold = 0.01}\n')
    assert ApproxConfig.load(good).layers == {2: LayerLevel(skip=0.25),
                                              5: LayerLevel(threshold=0.01)}
    for text, why in [('{"layers": {"2": {"skip": 2}}}', r"not in \[0, 1\]"),
                      ('{"layers": {"2": {"skip": 0.1, "threshold": 1}}}', "exactly one"),
                      ('{"2": 0.3}', "no 'layers'"), ("{oops", "not valid JSON"),
                      ('{"layers": {"conv": 0.3}}', "not an operator index")]:
        bad = tmp_path / "b.json"
        bad.write_text(text)
        with pytest.raises(InputError, match=why):
            ApproxConfig.load(bad)


def test_approx_option_makes_an_approximate_schedule(tmp_path):
    g = load_model(str(DIGITS))
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=np.load(DIGITS_TEST)["x"][:16])
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"layers": {"2": {"skip": 0.4}}}))
    args = argparse.Namespace(approx=cfg, calib=calib, model=DIGITS)
    sched = schedule_for(args, g, "nucleo-f446re")
    kinds = {s.op: s.kernel for s in sched}
    assert kinds[2] == "approx" and kinds[0] == "exact" and kinds[5] == "exact"
    assert sched.steps[2].params["granularity"] == 2
    cfg.write_text(json.dumps({"layers": {"1": {"skip": 0.4}}}))
    with pytest.raises(InputError, match="not CONV_2D"):
        schedule_for(args, g, "nucleo-f446re")
    with pytest.raises(MissingInputError):
        schedule_for(argparse.Namespace(approx=tmp_path / "none.json", calib=None), g,
                     "nucleo-f446re")


def test_out_folder_is_made_but_not_its_parents(tmp_path, capsys):
    """As every output (base/outputs.py): DIR is made, a missing parent is refused (a typo in
    it would otherwise make a tree of folders), before any work."""
    out = tmp_path / "typo" / "study"
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(DIGITS_TEST), "--out",
               str(out), "--layers", "1") == 73
    assert f"directory {tmp_path / 'typo'} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()
    leaf = tmp_path / "study"
    assert dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(DIGITS_TEST), "--out",
               str(leaf), "--layers", "1") == 65  # operator 1 is no CONV_2D: after DIR is made
    assert leaf.is_dir()


def test_jobs_beyond_the_cpus_fork_one_worker_per_cpu(tmp_path, monkeypatch, capsys):
    # The pool forks every worker up front: --jobs 100000 forked until the machine ran out of
    # memory. The pool is stubbed here, so a failure cannot fork at all.
    from mcusim.nn.approx import dse as dse_module
    from mcusim.sim.check.measure import default_jobs

    asked: list[int] = []

    def no_pool(max_workers: int):
        asked.append(max_workers)
        raise RuntimeError("stub: no workers in this test")

    monkeypatch.setattr(dse_module, "process_pool", no_pool)
    dse(str(DIGITS), "--board", "nucleo-f446re", "--data", str(DIGITS_TEST), "--out",
        str(tmp_path / "o"), "--layers", "0", "--levels", "0", "--jobs", "100000")
    assert asked == [default_jobs()]
    assert f"using {default_jobs()} worker processes" in capsys.readouterr().err


@pytest.mark.parametrize("extra, why", [
    (["--calib", "C"], "calibration inputs are for --approx"),
    (["--approx", "A", "--schedule", "pex"], "cannot be combined with --schedule pex"),
    (["--approx", "A", "--sweep"], "compare Pex schedules"),
    (["--sweep", "--schedule", "patch"], "--schedule patch would not be used"),
    (["--plot", "P.png", "--schedule", "patch:2"], "is not one"),
])
def test_options_that_would_be_ignored_together(tmp_path, capsys, extra, why):
    """Each of these combinations ran, one of the two options silently unused (--approx with
    --schedule pex ran the approximate schedule; --sweep --schedule patch swept Pex)."""
    extra = [str(tmp_path / v) if v in ("C", "A", "P.png") else v for v in extra]
    assert main(["nn", str(DIGITS), *extra]) == 64
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err

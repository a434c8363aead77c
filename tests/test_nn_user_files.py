"""Files users hand to `mcusim nn` and `mcusim dse` (schedules, approximate configs,
significance files, data sets, inputs, models): a malformed one gets one message naming the file
and what was expected, with the documented exit code (65 malformed, 64 usage), never an
internal error or Python's own words. No firmware is built here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mcusim.nn.approx.significance import load_significance
from mcusim.nn.schedule import layer_schedule
from mcusim.nn.schedule_file import parse_schedule
from mcusim.nn.sim_api import InputError
from mcusim.nn.tflite_import import load_model
from mcusim.sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "nn" / "models" / "digits_cnn_int8.tflite"  # 8 operators, input (1,16,16,1)
INTERNALS = ("internal error", "Traceback", "__init__", "unpack", "allow_pickle",
             "dictionary update", "not supported between", "could not convert", "reshape")


def clean(err: str) -> str:
    err = " ".join(err.split())
    assert not any(word in err for word in INTERNALS), err
    return err


def digits_result_schedule() -> dict:
    """A saved result's shape: the schedule under 'schedule' (as `mcusim nn --json` writes)."""
    return {"schema": "mcusim.nn/1", "schedule": layer_schedule(load_model(DIGITS))
            .to_json_dict()}


def edited(**step0) -> dict:
    d = digits_result_schedule()
    d["schedule"]["steps"][0].update(step0)
    return d


@pytest.mark.parametrize("doc, why", [
    (edited(out_channels="abc"), "'out_channels' must be [begin, end)"),
    (edited(out_channels=[0]), "'out_channels' must be [begin, end)"),
    (edited(out_channels=["a", "b"]), "'out_channels' must be [begin, end)"),
    (edited(out_channels=[0, 999]), "goes past the 8 channels"),
    (edited(op="3"), "'op' must be an operator index 0..7"),
    (edited(op=99), "'op' must be an operator index 0..7"),
    (edited(first="yes"), "'first' must be true or false"),
    (edited(kernel="fast"), "unknown 'kernel' 'fast'"),
    (edited(kernel="approx"), "params.keep must be the hex bitmap"),
    (edited(colour="red"), "unknown field(s) 'colour'"),
    (edited(params={"rows": [3, 1]}), "'params.rows' must be [begin, end)"),
    ({"steps": [{"name": "x"}]}, "missing field(s) 'op'"),
    ({"steps": ["ab"]}, "step 0 must be an object"),
    ({"steps": []}, "non-empty list of steps"),
    ({"kind": "x"}, "expected 'steps'"),
    ({"steps": [{"op": 0, "name": "L00"}], "extra": 1}, "unknown field(s) 'extra'"),
    ([1, 2], "expected a JSON object"),
    ({"steps": [{"op": 0, "name": "L00_CONV_2D"}]}, "operator(s) [1, 2, 3, 4, 5, 6, 7]"),
    ({"steps": [{"op": i, "name": "L"} for i in range(8)]}, "step name 'L' is used by 8"),
    ({"steps": [{"op": i, "name": f"L{i}"} for i in range(7, -1, -1)]},
     "before its input tensor"),
    ({"steps": [{"op": 0, "name": "a", "out_channels": [0, 4]}]},
     "does not complete operator(s) [0, 1"),
])
def test_malformed_schedule_files_are_refused_with_the_field(tmp_path, capsys, doc, why):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    assert main(["nn", str(DIGITS), "--schedule", str(path)]) == 65
    err = clean(capsys.readouterr().err)
    assert f"--schedule {path}:" in err and why in err


def test_schedule_files_the_tool_writes_are_read_back_unchanged():
    from mcusim.nn.pex.schedule import make_schedule, pex_schedule
    from mcusim.nn.tflite_import import parse_model
    from tests.test_pex import first_layers

    g = load_model(DIGITS)
    bands = parse_model(first_layers(), name="bands")  # patch steps with row bands
    banded = pex_schedule(bands, 4, patches=True, bands=5)[0]
    assert any("rows" in st.params for st in banded)
    for graph, schedule in ((g, layer_schedule(g)), (g, make_schedule(g, "pex:2", "nucleo-f446re")),
                            (bands, banded)):
        d = {"schedule": schedule.to_json_dict()}
        back = parse_schedule(json.loads(json.dumps(d)), graph, "s.json")
        assert back.to_json_dict() == schedule.to_json_dict()
        assert back.steps == schedule.steps


def test_an_approximate_schedule_file_is_read_back_and_checked(tmp_path):
    import argparse

    from mcusim.nn.approx.nn_option import schedule_for

    g = load_model(DIGITS)
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"layers": {"2": {"skip": 0.4}}}))
    sched = schedule_for(argparse.Namespace(approx=cfg, calib=None, model=DIGITS), g,
                         "nucleo-f446re", warn=lambda _m: None)
    d = json.loads(json.dumps(sched.to_json_dict()))
    assert parse_schedule(d, g, "a.json").steps == sched.steps
    d["steps"][2]["params"]["keep"] = d["steps"][2]["params"]["keep"][:-2]
    with pytest.raises(InputError, match="params.keep must be the hex bitmap"):
        parse_schedule(d, g, "a.json")


@pytest.mark.parametrize("doc, why", [
    ({"layers": {"2": {"skip": "abc"}}}, "skip must be a number, got 'abc'"),
    ({"layers": {"2": {"skip": True}}}, "skip must be a number"),
    ({"layers": {"2": {"threshold": -1}}}, "threshold -1.0 is negative"),
    ({"layers": {"2": 0.3}, "bogus": 1}, "unknown field(s) 'bogus'"),
    ({"layers": {"2": 0.3, "L02_CONV_2D": 0.1}}, "operator 2 is given twice"),
    ({"layers": {"2": 0.3}, "significance": 3}, "'significance' must be a file name"),
    ([1], "expected an object with a 'layers' table"),
])
def test_malformed_approx_configs_are_refused(tmp_path, capsys, doc, why):
    path = tmp_path / "ap.json"
    path.write_text(json.dumps(doc))
    assert main(["nn", str(DIGITS), "--approx", str(path)]) == 65
    err = clean(capsys.readouterr().err)
    assert f"--approx {path}:" in err and why in err


def write_significance(path: Path, kind: str) -> None:
    if kind == "text":
        path.write_text("not numpy\n")
    elif kind == "npy":
        np.save(path, np.zeros((16, 72)))
    elif kind == "object":
        np.savez(path, L02=np.array([{"a": 1}], dtype=object))
    elif kind == "shape":
        np.savez(path, L02=np.zeros((3, 3)))
    elif kind == "name":
        np.savez(path, conv=np.zeros((16, 72)))
    elif kind == "negative":
        np.savez(path, L02=-np.ones((16, 72)))


@pytest.mark.parametrize("kind, why", [
    ("text", "numpy cannot read it as an .npz"), ("npy", "a single .npy array"),
    ("object", "cannot be read (corrupt, or object data)"),
    ("shape", "array L02 has shape (3, 3), operator 2"), ("name", "unknown array 'conv'"),
    ("negative", "expected finite non-negative floats")])
def test_malformed_significance_files_are_refused(tmp_path, capsys, kind, why):
    sig = tmp_path / ("sig.npy" if kind == "npy" else "sig.npz")
    write_significance(sig, kind)
    path = tmp_path / "ap.json"
    path.write_text(json.dumps({"layers": {"2": 0.3}, "significance": sig.name}))
    assert main(["nn", str(DIGITS), "--approx", str(path)]) == 65
    err = clean(capsys.readouterr().err)
    assert f"significance file {sig}" in err and why in err


def test_a_significance_file_dse_writes_loads(tmp_path):
    from mcusim.nn.approx.significance import LayerSignificance, save_significance

    a = np.random.default_rng(0).random((4, 6))
    save_significance({2: LayerSignificance(2, a, "by_mean")}, tmp_path / "s.npz")
    back = load_significance(tmp_path / "s.npz")
    assert list(back) == [2] and back[2].pairing == "by_mean"
    assert np.array_equal(back[2].positions, a)


@pytest.mark.parametrize("arrays, why", [
    ({"x": np.zeros((0, 16, 16, 1), np.int8)}, "'x' holds no inputs"),
    ({"x": np.zeros((4, 16, 16, 1), np.int8), "y": np.zeros(7, np.int64)},
     "'y' has 7 labels for 4 inputs"),
    ({"x": np.zeros((4, 16, 16, 1), np.float32)}, "'x' is float32 (4, 16, 16, 1)"),
    ({"x": np.zeros((4, 16, 16, 1), np.int8), "y": np.array([0.5, 1, 2, 3])},
     "expected one integer class label"),
    ({"x": np.zeros((4, 16, 16, 1), np.int8), "y": np.array([0, 1, 99, 2])},
     "the model has 10 classes"),
    ({"x": np.zeros((2, 16, 16, 1), np.int8), "y": np.array(["a", "b"])},
     "expected one integer class label"),
    ("npy", "a single .npy array"), ("text", "numpy cannot read it as an .npz"),
    ("truncated", "numpy cannot read it as an .npz"),
])
def test_malformed_dse_data_sets_are_refused(tmp_path, capsys, arrays, why):
    data = tmp_path / "data.npz"
    if arrays == "npy":
        data = tmp_path / "data.npy"
        np.save(data, np.zeros((4, 16, 16, 1), np.int8))
    elif arrays == "text":
        data.write_text("x,y\n1,2\n")
    elif arrays == "truncated":  # a zip's first member header, no zip directory
        np.savez(data, x=np.zeros((4, 16, 16, 1), np.int8))
        data.write_bytes(data.read_bytes()[:100])
    else:
        np.savez(data, **arrays)
    assert main(["dse", str(DIGITS), "--board", "nucleo-f446re", "--data", str(data),
                 "--out", str(tmp_path / "o")]) == 65
    err = clean(capsys.readouterr().err)
    assert f"--data {data}:" in err and why in err


def test_nn_input_errors(tmp_path, capsys):
    text = tmp_path / "x.npy"
    text.write_text("1 2 3\n")
    assert main(["nn", str(DIGITS), "--input", str(text)]) == 65
    err = clean(capsys.readouterr().err)
    assert f"--input {text}: numpy cannot read it" in err
    strings = tmp_path / "s.npy"
    np.save(strings, np.array(["a"] * 256))
    assert main(["nn", str(DIGITS), "--input", str(strings)]) == 65
    assert "expected integers" in clean(capsys.readouterr().err)
    # An .npz whose array's compressed data is damaged: the array cannot be read.
    corrupt = tmp_path / "c.npz"
    np.savez_compressed(corrupt, x=np.arange(256, dtype=np.int8).reshape(1, 16, 16, 1))
    data = bytearray(corrupt.read_bytes())
    start = data.find(b"x.npy") + 40  # (inside the member's deflate stream)
    data[start:start + 30] = bytes(b ^ 0x5A for b in data[start:start + 30])
    corrupt.write_bytes(bytes(data))
    assert main(["nn", str(DIGITS), "--input", str(corrupt)]) == 65
    assert f"--input {corrupt}: its array cannot be read" in clean(capsys.readouterr().err)
    truncated = tmp_path / "t.npz"  # (no zip directory left)
    truncated.write_bytes(corrupt.read_bytes()[:100])
    assert main(["nn", str(DIGITS), "--input", str(truncated)]) == 65
    assert f"--input {truncated}: numpy cannot read it" in clean(capsys.readouterr().err)


def test_input_index_needs_a_batch(tmp_path, capsys):
    assert main(["nn", str(DIGITS), "--input-index", "3"]) == 64
    assert "--input-index 3 needs --input" in clean(capsys.readouterr().err)
    one = tmp_path / "one.npy"
    np.save(one, np.zeros((1, 16, 16, 1), np.int8))  # the model's shape: no batch axis
    assert main(["nn", str(DIGITS), "--input", str(one), "--input-index", "3"]) == 64
    assert "no batch axis" in clean(capsys.readouterr().err)
    batch = tmp_path / "batch.npy"
    np.save(batch, np.zeros((3, 1, 16, 16, 1), np.int8))
    assert main(["nn", str(DIGITS), "--input", str(batch), "--input-index", "3"]) == 64
    assert "holds 3 inputs" in clean(capsys.readouterr().err)


def test_model_errors_name_the_file_as_given(tmp_path, capsys):
    bad = tmp_path / "sub" / "m400000.tflite"
    bad.parent.mkdir()
    bad.write_bytes(DIGITS.read_bytes()[:3000])
    assert main(["nn", str(bad)]) == 65
    err = clean(capsys.readouterr().err)
    assert f"error: {bad}: malformed .tflite" in err
    assert load_model(DIGITS).name == "digits_cnn_int8"  # the graph keeps its stem


@pytest.mark.parametrize("option", ["--schedule", "--approx"])
def test_a_binary_file_is_malformed_input(tmp_path, capsys, option):
    path = tmp_path / "b.json"
    path.write_bytes(bytes(range(256)) * 4)
    assert main(["nn", str(DIGITS), option, str(path)]) == 65
    assert f"{option} {path}: not a text file" in clean(capsys.readouterr().err)


@pytest.mark.parametrize("shape", [(0, 16, 16, 1), (0,)])
def test_an_empty_input_array_is_malformed_input(tmp_path, capsys, shape):
    # An empty batch passed the size check and was refused as "--input-index None: ... holds
    # 0 inputs" (exit 64), naming an option the user did not give.
    empty = tmp_path / "empty.npy"
    np.save(empty, np.zeros(shape, np.int8))
    assert main(["nn", str(DIGITS), "--input", str(empty)]) == 65
    err = clean(capsys.readouterr().err)
    assert f"--input {empty}: holds no inputs" in err and "--input-index" not in err

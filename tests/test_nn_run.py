"""The model path end to end: generated firmware on simulated boards, bit-exact with the
reference, per-layer cycles that add up to the region totals, the build cache, the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from mcusim.nn import build as nn_build
from mcusim.nn.codegen import INFERENCE_REGION
from mcusim.nn.compare import describe_mismatch
from mcusim.nn.run import run_model
from mcusim.nn.schedule import layer_schedule
from mcusim.nn.tflite_import import parse_model
from mcusim.sim.cli import main
from tests.nn_synth import (
    ModelBuilder,
    depth_multiplier_model,
    float_edges_model,
    pad_mean_model,
    small_cnn,
)

MODELS = Path(__file__).resolve().parent.parent.parent / "shared" / "models"
NATIVE = os.environ.get("MCUSIM_NATIVE") != "0"
needs_models = pytest.mark.skipif(not MODELS.is_dir(), reason="../shared/models not present")


@pytest.fixture(scope="module", autouse=True)
def nn_cache(tmp_path_factory):
    """A private build cache for these tests (and the same one for every test in them)."""
    old = os.environ.get("MCUSIM_CACHE_DIR")
    os.environ["MCUSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("nn-cache"))
    yield Path(os.environ["MCUSIM_CACHE_DIR"])
    if old is None:
        del os.environ["MCUSIM_CACHE_DIR"]
    else:
        os.environ["MCUSIM_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "small.tflite"
    path.write_bytes(small_cnn())
    return path


@pytest.mark.parametrize("board", ["nucleo-f446re", "nucleo-l4r5zi", "nucleo-f746zg",
                                   "nucleo-g071rb"])
def test_small_model_is_bit_exact_on_every_core_family(small_model, board):
    r = run_model(small_model, board, check_layers=True)
    assert r.reference == "match"
    # check_layers read every step's output: compare one intermediate against the reference
    # ourselves, so a reader that read nothing could not pass.
    assert r.outputs[0].shape == (1, 5) and r.outputs[0].dtype == np.int8


@pytest.mark.parametrize("board", ["nucleo-f446re", "nucleo-g071rb"])
def test_pad_and_mean_run_bit_exact(board):
    for same in (False, True):
        r = run_model(parse_model(pad_mean_model(1, same), "padmean"), board, check_layers=True)
        assert r.reference == "match", (board, same)


def test_float_edges_and_depth_multiplier_run_bit_exact():
    r = run_model(parse_model(float_edges_model(2), "edges"), "nucleo-f746zg", check_layers=True)
    assert r.reference == "match" and r.outputs[0].dtype == np.float32
    for board in ("nucleo-f446re", "nucleo-g071rb"):
        r = run_model(parse_model(depth_multiplier_model(1), "dw2"), board, check_layers=True)
        assert r.reference == "match", board


def test_concurrent_builds_of_one_model_agree(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from mcusim.nn.codegen import generate
    from mcusim.nn.planner import plan_layers

    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    g = parse_model(small_cnn(3), "small3")
    s = layer_schedule(g)
    model = generate(g, s, plan_layers(g, s))
    with ThreadPoolExecutor(2) as pool:
        builds = list(pool.map(lambda _: nn_build.build(model, "nucleo-f446re"), range(2)))
    assert builds[0].elf == builds[1].elf and builds[0].elf.is_file()
    made = sorted(p.name for p in (tmp_path / "nn").iterdir())
    assert len(made) == 2 and made[0].startswith("kernels-nucleo-f446re-")  # objects, once
    assert made[1] == builds[0].elf.parent.name
    assert nn_build.build(model, "nucleo-f446re").cached


def test_layer_cycles_add_up_to_the_region_totals(small_model):
    r = run_model(small_model, "nucleo-f446re", live_bytes=True)
    regions = {reg.name: reg for reg in r.run.regions}
    assert [s.name for s in r.steps] == [s.name for s in layer_schedule(
        parse_model(small_model.read_bytes(), "small"))]
    for s in r.steps:
        assert s.cycles == regions[s.name].cycles > 0 or s.op == "RESHAPE"
    steps = sum(s.cycles for s in r.steps)
    assert r.cycles == regions[INFERENCE_REGION].cycles
    # The inference region holds the steps plus one marker call pair per step.
    assert steps < r.cycles < steps + 40 * len(r.steps)
    assert abs(sum(s.share for s in r.steps) - steps / r.cycles) < 1e-9
    conv = r.steps[0]
    assert conv.macs == 8 * 8 * 8 * 27 and conv.cycles_per_mac == conv.cycles / conv.macs
    # Memory: the arena is static RAM; live bytes were measured per step.
    assert r.static_ram_bytes >= r.arena_bytes >= r.arena_bound_bytes
    assert r.peak_ram_bytes >= r.static_ram_bytes + r.stack_peak_bytes
    assert r.live_peak_bytes and all(s.live_bytes is not None for s in r.steps)
    assert r.flash_bytes > r.weight_bytes


def test_second_run_uses_the_cache_and_new_code_rebuilds(small_model, nn_cache):
    first = run_model(small_model, "nucleo-f446re")
    again = run_model(small_model, "nucleo-f446re")
    assert again.cached_build and again.elf == first.elf and again.cycles == first.cycles
    other = run_model(parse_model(small_cnn(seed=9), "small9"), "nucleo-f446re")
    assert not other.cached_build and other.elf != first.elf
    assert not list(nn_cache.glob("nn/.*")), "temporary build directories left behind"


def test_mismatch_names_the_first_differing_layer():
    g = parse_model(small_cnn(), "small")
    s = layer_schedule(g)
    ref = {t: np.zeros((1, *g.tensors[t].shape), np.int8) for t in range(len(g.tensors))}
    got = {t: v[0].copy() for t, v in ref.items()}
    assert describe_mismatch(g, s, ref, {t: got[t] for t in g.outputs}, got) == "match"
    got[g.operators[2].outputs[0]][0, 1, 2, 3] = 5
    msg = describe_mismatch(g, s, ref, {t: got[t] for t in g.outputs}, got)
    assert msg.startswith("layer 2 CONV_2D (L02_CONV_2D): 1 of 512 values differ")
    assert "first at (0, 1, 2, 3): firmware 5, reference 0" in msg


@needs_models
def test_autoencoder_is_bit_exact_on_m4_and_m7():
    x = np.load(MODELS / "ad01_inputs_float32.npy")[3]
    # The pure-Python path (CI's first pass) takes one board, the native path both.
    for board in ("nucleo-l4r5zi", "nucleo-f746zg") if NATIVE else ("nucleo-f746zg",):
        g = parse_model((MODELS / "ad01_int8.tflite").read_bytes(), "ad01")
        t = g.tensors[g.inputs[0]]
        q = np.clip(np.round(x / t.scale) + t.zero_point, -128, 127).astype(np.int8)
        r = run_model(g, board, inputs=[q], check_layers=True)
        assert r.reference == "match", board


@needs_models
@pytest.mark.skipif(not NATIVE, reason="100M simulated cycles: native hot path only")
def test_kws_is_bit_exact_on_m0plus_and_m4():
    x = np.load(MODELS / "kws_ref_inputs_int8.npy")
    for board in ("nucleo-g071rb", "nucleo-f446re"):
        r = run_model(MODELS / "kws_ref_model.tflite", board, inputs=[x])
        assert r.reference == "match", board
        assert int(np.argmax(r.outputs[0])) == 5  # TFLite Micro classifies it as class 5


@needs_models
@pytest.mark.skipif(not NATIVE, reason="20M simulated cycles each: native hot path only")
@pytest.mark.parametrize("name", ["pretrainedResnet_quant", "vww_96_int8"])
def test_resnet_and_vww_are_bit_exact_on_m7(name):
    r = run_model(MODELS / f"{name}.tflite", "nucleo-f746zg")
    assert r.reference == "match"
    assert r.arena_bytes == r.arena_bound_bytes  # first fit reaches the bound on these


@needs_models
def test_models_that_do_not_fit_say_how_much_they_need(capsys):
    code = main(["nn", str(MODELS / "pretrainedResnet_quant.tflite"), "--board",
                 "nucleo-g071rb"])
    err = capsys.readouterr().err.replace("\n", " ")
    from mcusim.nn.planner import plan_layers
    from mcusim.nn.run import STACK_RESERVE

    g = parse_model((MODELS / "pretrainedResnet_quant.tflite").read_bytes(), "resnet")
    need = plan_layers(g, layer_schedule(g)).arena_bytes + STACK_RESERVE
    assert code == 85
    assert f"does not fit nucleo-g071rb: needs {need:,} bytes of RAM" in err
    assert "the board has 36,864" in err


def test_cli_prints_the_table_and_writes_json(small_model, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["nn", str(small_model), "--board", "nucleo-f446re", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "outputs match the reference" in text and "DEPTHWISE_CONV_2D" in text
    d = json.loads(out.read_text())
    assert d["schema"] == "mcusim.nn/1" and d["model"] == "small"
    assert d["board"] == "nucleo-f446re" and d["reference"] == "match"
    assert d["schedule"]["kind"] == "layers" and len(d["layers"]) == 9
    assert {"index", "op", "macs", "cycles"} <= set(d["layers"][0])
    for key in ("cycles", "arena_bytes", "peak_ram_bytes", "live_peak_bytes", "flash_bytes"):
        assert key in d
    # The schedule saved in the result runs again as a schedule file, to the same result,
    # byte for byte.
    again = tmp_path / "again.json"
    assert main(["nn", str(small_model), "--schedule", str(out), "--json", str(again)]) == 0
    assert again.read_text() == out.read_text()
    # A float input is quantised with the input's scale and zero point.
    x = np.random.default_rng(1).uniform(-6, 6, (1, 8, 8, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["nn", str(small_model), "--input", str(tmp_path / "x.npy"), "--json",
                 str(again)]) == 0
    q = np.clip(np.round(x / 0.05) - 3, -128, 127).astype(np.int8)
    want = run_model(small_model, "nucleo-f446re", inputs=[q]).outputs[0]
    assert json.loads(again.read_text())["outputs"] == [want.reshape(-1).tolist()]
    # The result of an earlier run may be replaced; a file the user wrote may not.
    assert main(["nn", str(small_model), "--json", str(out)]) == 0
    mine = tmp_path / "mine.json"
    mine.write_text('{"my": "data"}')
    assert main(["nn", str(small_model), "--json", str(mine)]) == 73
    assert mine.read_text() == '{"my": "data"}'


def test_cli_refuses_unsupported_models_and_bad_inputs(tmp_path, small_model, capsys):
    b = ModelBuilder()
    x = b.input((1, 4, 4, 2))
    y = b.tensor((1, 4, 4, 2), "int8", (0.1,), (0,))
    b.op("TANH", [x], [y])
    bad = tmp_path / "tanh.tflite"
    bad.write_bytes(b.build([x], [y]))
    assert main(["nn", str(bad)]) == 65
    assert "operator #0 TANH is not supported" in capsys.readouterr().err
    assert main(["nn", str(tmp_path / "missing.tflite")]) == 66
    wrong = tmp_path / "x.npy"
    np.save(wrong, np.zeros((3, 3), np.int8))
    assert main(["nn", str(small_model), "--input", str(wrong)]) == 65
    assert "does not fit the model input" in capsys.readouterr().err
    np.savez(tmp_path / "two.npz", a=np.zeros(3), b=np.zeros(3))
    assert main(["nn", str(small_model), "--input", str(tmp_path / "two.npz")]) == 65
    assert "expected one array, or one named 'x'" in capsys.readouterr().err
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 1, 8, 8, 3), np.int8), y=np.zeros(2))
    assert main(["nn", str(small_model), "--input", str(tmp_path / "x.npz"), "--input-index",
                 "1"]) == 0
    capsys.readouterr()
    assert main(["nn", str(small_model), "--board", "no-such-board"]) == 64  # as mcusim run
    assert "unknown board" in capsys.readouterr().err


def test_emit_writes_c_and_a_makefile_that_builds(small_model, tmp_path, capsys):
    d = tmp_path / "fw"
    assert main(["nn", str(small_model), "--emit", str(d)]) == 0
    assert {"model.c", "main.c", "input_data.h", "Makefile"} <= {p.name for p in d.iterdir()}
    model_c = (d / "model.c").read_text()
    assert model_c.count("MCUSIM_REGION_BEGIN(") == 9 and "nn_conv2d_s8(" in model_c
    assert nn_build.CROSS in (d / "Makefile").read_text()
    import subprocess

    subprocess.run(["make", "-s", "-C", str(d)], check=True, capture_output=True)
    assert (d / "model.elf").is_file()
    user = tmp_path / "user"
    user.mkdir()
    (user / "notes.txt").write_text("mine")
    assert main(["nn", str(small_model), "--emit", str(user)]) == 73


def test_cli_exits_1_and_names_the_layer_when_the_firmware_differs(small_model, monkeypatch,
                                                                    capsys):
    import mcusim.nn.run as nn_run

    real = nn_run.run_reference

    def off_by_one(graph, inputs):  # a reference that disagrees in layer 3 (the ADD)
        values = real(graph, inputs)
        t = graph.operators[3].outputs[0]
        values[t] = (values[t].astype(np.int16) + 1).clip(-128, 127).astype(np.int8)
        return values

    monkeypatch.setattr(nn_run, "run_reference", off_by_one)
    assert main(["nn", str(small_model), "--check-layers"]) == 1
    out = capsys.readouterr()
    assert "mismatch" in out.out and "layer 3 ADD (L03_ADD)" in out.err.replace("\n", " ")


def test_a_scratch_plan_smaller_than_the_kernel_needs_is_caught(small_model, monkeypatch):
    import mcusim.nn.run as nn_run
    from mcusim.nn.planner import layer_buffers, plan_arena

    def short_scratch(graph, schedule):
        buffers, aliases = layer_buffers(graph, schedule, scratch=lambda g, s: 8)
        return plan_arena(buffers, aliases, len(schedule))

    monkeypatch.setattr(nn_run, "plan_for", short_scratch)
    with pytest.raises(nn_run.FirmwareRunError, match="needs more scratch than the plan"):
        run_model(small_model, "nucleo-f446re")


def test_kernel_loops_in_ram_skip_flash_wait_states(small_model):
    flash = run_model(small_model, "nucleo-l4r5zi", code_in_ram=False)
    ram = run_model(small_model, "nucleo-l4r5zi")  # auto: 5 wait states at 120 MHz
    assert (flash.kernel_code, ram.kernel_code) == ("flash", "ram")
    assert ram.reference == flash.reference == "match"
    assert ram.cycles < flash.cycles and ram.static_ram_bytes > flash.static_ram_bytes
    assert run_model(small_model, "mps2-an386").kernel_code == "flash"  # zero wait states


def test_steps_of_one_operator_add_up_per_operator(small_model, tmp_path, capsys):
    from mcusim.nn.schedule import Step

    g = parse_model(small_model.read_bytes(), "small")
    s = layer_schedule(g)
    s.steps.insert(1, Step(0, "L00_again"))  # the first conv twice (same output, same bits)
    r = run_model(g, "nucleo-f446re", schedule=s)
    assert r.reference == "match" and len(r.steps) == len(r.layers) + 1
    assert r.layers[0].cycles == r.steps[0].cycles + r.steps[1].cycles
    assert r.layers[0].macs == 2 * g.macs(g.operators[0])
    path = tmp_path / "s.json"
    path.write_text(s.to_json_text())
    assert main(["nn", str(small_model), "--schedule", str(path)]) == 0
    assert "L00_again" in capsys.readouterr().out
    assert main(["nn", str(small_model), "--schedule", str(path), "--by-op"]) == 0
    assert "L00_again" not in capsys.readouterr().out



def test_recording_accesses_does_not_change_the_outputs(small_model):
    for in_ram in (False, True):  # the kernels' loops in flash, then copied to SRAM
        plain = run_model(small_model, "nucleo-f446re", check_layers=True, code_in_ram=in_ram)
        recorded = run_model(small_model, "nucleo-f446re", check_layers=True, live_bytes=True,
                             code_in_ram=in_ram)
        assert plain.kernel_code == recorded.kernel_code == ("ram" if in_ram else "flash")
        assert plain.reference == recorded.reference == "match"
        assert recorded.cycles == plain.cycles and recorded.live_peak_bytes


def test_recording_accesses_does_not_change_code_running_from_ram(small_model):
    import io
    import tempfile

    from mcusim.nn import run as nn_run
    from mcusim.nn.reference import default_inputs
    from mcusim.nn.sim_api import Firmware, new_simulation

    g = parse_model(small_model.read_bytes(), "small")
    p = nn_run.prepare(g, "nucleo-f446re", code_in_ram=True)
    elf = nn_run.build_prepared(p).elf
    x = default_inputs(g)[0]
    cycles = []
    for record in (False, True):
        with tempfile.TemporaryDirectory() as root:
            (Path(root) / "nn_input0.bin").write_bytes(x.tobytes())
            sim = new_simulation(Firmware.open(elf), p.board, fs_root=Path(root),
                                 stdout=io.BytesIO(), stderr=io.BytesIO(),
                                 record_accesses=record)
            cycles.append(sim.run().cycles)
    assert cycles[0] == cycles[1]

"""The numpy reference of TFLite Micro's int8 kernels against the tflite-micro interpreter,
every intermediate tensor bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcusim.nn import quant
from mcusim.nn.reference import default_inputs, requantize, run_reference
from mcusim.nn.tflite_import import parse_model
from tests.nn_synth import (
    ModelBuilder,
    depth_multiplier_model,
    float_edges_model,
    pad_mean_model,
    small_cnn,
)

runtime = pytest.importorskip("tflite_micro", reason="tflite-micro not installed").runtime
MODELS = Path(__file__).resolve().parent.parent.parent / "shared" / "models"


def tflm_tensors(data: bytes, inputs: list[np.ndarray], tensors: list[int]
                 ) -> dict[int, np.ndarray]:
    it = runtime.Interpreter.from_bytes(
        data, arena_size=1 << 22,
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return {t: np.asarray(it.GetTensor(t, 0)["tensor_data"]) for t in tensors}


def assert_every_tensor_matches(data: bytes, name: str, inputs=None) -> None:
    g = parse_model(data, name)
    inputs = inputs if inputs is not None else default_inputs(g)
    ours = run_reference(g, inputs)
    theirs = tflm_tensors(data, inputs, [op.outputs[0] for op in g])
    for op in g:
        t = op.outputs[0]
        assert np.array_equal(ours[t], theirs[t].reshape(ours[t].shape)), \
            f"{name}: operator #{op.index} {op.type} differs from TFLite Micro"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_model_matches_tflite_micro(seed):
    assert_every_tensor_matches(small_cnn(seed), f"small{seed}")


def test_strided_valid_and_fused_activations_match():
    b = ModelBuilder(7)
    x = b.input((1, 9, 7, 4), scale=0.1, zero_point=10)
    y = b.conv2d(x, 6, 3, stride=2, padding="VALID", activation="RELU6")
    y = b.depthwise(y, 3, stride=2, padding="SAME", activation="RELU_N1_TO_1")
    y = b.pool(y, "MAX_POOL_2D", 3, 1, padding="SAME")
    y = b.pool(y, "AVERAGE_POOL_2D", 2, 1, padding="SAME")
    y = b.fully_connected(b.reshape(y, (1, -1)), 7, activation="RELU")
    assert_every_tensor_matches(b.build([x], [y]), "strided")


@pytest.mark.parametrize("same_quant", [False, True])
def test_pad_and_mean_match(same_quant):
    # Equal input and output quantisation still takes TFLite Micro's multiplier path.
    assert_every_tensor_matches(pad_mean_model(2, same_quant), "padmean")


def test_depth_multiplier_and_dilation_match():
    assert_every_tensor_matches(depth_multiplier_model(4), "dw2")


def test_quantize_and_dequantize_at_the_edges_match():
    assert_every_tensor_matches(float_edges_model(1), "edges")


def test_mean_folds_one_over_n_as_tflite_micro_does():
    # floor(log2 n) and a truncating division (a ceil/round variant fails 3 of these 18).
    for h, w in [(3, 3), (5, 7), (12, 12), (1, 6), (16, 16), (7, 9)]:
        for seed in range(3):
            b = ModelBuilder(seed)
            x = b.input((1, h, w, 8), scale=0.05, zero_point=-4)
            scale = 0.05 * float(np.random.default_rng(seed).uniform(0.2, 2.0))
            y = b.mean(x, keep_dims=True, scale=scale, zero_point=seed * 5 - 3)
            assert_every_tensor_matches(b.build([x], [y]), f"mean{h}x{w}")


@pytest.mark.skipif(not MODELS.is_dir(), reason="../shared/models not present")
@pytest.mark.parametrize("name", ["kws_ref_model", "pretrainedResnet_quant", "vww_96_int8",
                                  "ad01_int8"])
def test_shared_models_match_tflite_micro(name):
    assert_every_tensor_matches((MODELS / f"{name}.tflite").read_bytes(), name)


@pytest.mark.skipif(not MODELS.is_dir(), reason="../shared/models not present")
def test_real_kws_input_is_classified_as_tflite_micro_does():
    data = (MODELS / "kws_ref_model.tflite").read_bytes()
    x = np.load(MODELS / "kws_ref_inputs_int8.npy")
    assert_every_tensor_matches(data, "kws", [x])


def test_quantize_multiplier_is_tflites():
    # Values worked by hand from TFLite's definition: m = q * 2^(shift-31), q rounded.
    assert quant.quantize_multiplier(0.5) == (1 << 30, 0)
    assert quant.quantize_multiplier(1.0) == (1 << 30, 1)
    assert quant.quantize_multiplier(0.0) == (0, 0)
    m, s = quant.quantize_multiplier(0.0123)
    assert abs(m * 2.0 ** (s - 31) - 0.0123) < 1e-11 and (1 << 30) <= m < (1 << 31)
    # 1 - 2^-33 rounds up to 2^31 and is renormalised.
    assert quant.quantize_multiplier(1 - 2.0 ** -33) == (1 << 30, 1)


def test_requantize_rounds_twice_as_tflite_does():
    # mult 2^30 (0.5 in Q31) and shift -1 multiply by 1/4: the doubling high multiply rounds
    # first, then the rounding right shift, half away from zero; 5/4 comes out as 2, not 1
    # (TFLite's double rounding); per-channel shifts broadcast over the last axis.
    acc = np.array([[4, -4, 6, -6, 5]])
    assert requantize(acc, 1 << 30, np.full(5, -1)).tolist() == [[1, -1, 2, -2, 2]]
    assert requantize(acc, 1 << 30, np.array([0, 0, 1, 1, 0])).tolist() == [[2, -2, 6, -6, 3]]


def test_a_batch_gives_the_same_values_as_single_inputs():
    g = parse_model(small_cnn(4), "small")
    xs = [default_inputs(g, seed)[0] for seed in range(3)]
    batch = run_reference(g, [np.concatenate(xs)])
    for i, x in enumerate(xs):
        single = run_reference(g, [x])
        for t, v in single.items():
            assert np.array_equal(batch[t][i:i + 1], v)

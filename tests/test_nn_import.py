"""Importing .tflite models into the model path's graph, and refusing what it cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcusim.nn.graph import Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions
from mcusim.nn.sim_api import ExitCode, InputError, MissingInputError
from mcusim.nn.tflite_import import UnsupportedModelError, load_model, parse_model
from tests.nn_synth import ModelBuilder, small_cnn

MODELS = Path(__file__).resolve().parent.parent.parent / "shared" / "models"


def test_small_model_imports_with_types_options_and_quantisation():
    g = parse_model(small_cnn(), "small")
    assert [op.type for op in g] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "ADD",
                                     "AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE",
                                     "FULLY_CONNECTED", "SOFTMAX"]
    conv, dw = g.operators[0], g.operators[1]
    assert conv.options == Conv2DOptions("SAME", 1, 1, 1, 1, "RELU")
    assert isinstance(dw.options, DepthwiseConv2DOptions) and dw.options.activation == "RELU6"
    assert g.operators[4].options == Pool2DOptions("VALID", 2, 2, 2, 2, "NONE")
    w = g.tensors[conv.inputs[1]]
    assert w.shape == (8, 3, 3, 3) and w.dtype == "int8" and w.data.shape == (8, 3, 3, 3)
    assert w.quant.per_channel and len(w.quant.scale) == 8
    assert g.tensors[dw.inputs[1]].quant.axis == 3
    bias = g.tensors[conv.inputs[2]]
    assert bias.dtype == "int32" and bias.data.dtype == np.int32
    x = g.tensors[g.inputs[0]]
    assert x.shape == (1, 8, 8, 3) and x.data is None and x.zero_point == -3
    assert g.macs(conv) == 8 * 8 * 8 * 27 and g.macs(dw) == 8 * 8 * 8 * 9
    assert g.macs(g.operators[7]) == 5 * 32 and g.macs(g.operators[3]) == 0
    assert g.producer(conv.outputs[0]) is conv
    assert [op.index for op in g.consumers(conv.outputs[0])] == [1, 3]


def test_unsupported_operator_is_named_with_its_index():
    b = ModelBuilder()
    x = b.input((1, 4, 4, 2))
    y = b.conv2d(x, 2, 1)
    z = b.tensor((1, 4, 4, 2), "int8", (0.1,), (0,))
    b.op("TANH", [y], [z])
    with pytest.raises(UnsupportedModelError, match=r"operator #1 TANH is not supported") as e:
        parse_model(b.build([x], [z]), "m")
    assert e.value.exit_code == ExitCode.BAD_INPUT == 65


def test_float_model_is_refused():
    b = ModelBuilder()
    x = b.tensor((1, 4), "float32", None, None)
    w = b.tensor((3, 4), "float32", None, None, np.ones((3, 4), np.float32))
    y = b.tensor((1, 3), "float32", None, None)
    b.op("FULLY_CONNECTED", [x, w, -1], [y])
    with pytest.raises(UnsupportedModelError, match="not a fully int8-quantised model"):
        parse_model(b.build([x], [y]), "m")


def test_not_a_flatbuffer_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="not a TensorFlow Lite flatbuffer"):
        parse_model(b"hello world, not a model", "m")
    bad = bytearray(small_cnn())
    with pytest.raises(InputError):
        parse_model(bytes(bad[:40]), "m")
    with pytest.raises(MissingInputError):
        load_model(tmp_path / "nope.tflite")


@pytest.mark.skipif(not MODELS.is_dir(), reason="../shared/models not present")
@pytest.mark.parametrize("name,ops,macs", [
    ("pretrainedResnet_quant", 16, 12_501_632), ("kws_ref_model", 13, 2_656_768),
    ("vww_96_int8", 31, 7_489_664), ("ad01_int8", 10, 264_192)])
def test_shared_models_import(name, ops, macs):
    g = load_model(MODELS / f"{name}.tflite")
    assert len(g.operators) == ops
    # MAC counts as MLPerf Tiny states them for these models (ResNet-8 12.5 M, DS-CNN 2.7 M,
    # MobileNetV1-0.25 VWW 7.5 M, autoencoder 0.26 M).
    assert sum(g.macs(op) for op in g) == macs

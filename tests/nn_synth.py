"""Small synthetic int8 .tflite models for the model path's tests, written with the flatbuffer
schema's object API (shipped in tflite-micro), so tests need not depend on ../shared/models.

    b = ModelBuilder(seed=1)
    x = b.input((1, 8, 8, 3))
    y = b.conv2d(x, 8, 3, activation="RELU")
    data = b.build([x], [b.fully_connected(b.reshape(y, (1, -1)), 4)])
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from tflite.utils import BUILTIN_OPCODE2NAME
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

_CODE = {name: code for code, name in BUILTIN_OPCODE2NAME.items()}
_TYPES = {"int8": s.TensorType.INT8, "int32": s.TensorType.INT32,
          "float32": s.TensorType.FLOAT32, "int16": s.TensorType.INT16}
_ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
_PAD = {"SAME": s.Padding.SAME, "VALID": s.Padding.VALID}


class ModelBuilder:
    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.tensors: list[s.TensorT] = []
        self.shapes: list[tuple[int, ...]] = []
        self.scales: list[float] = []
        self.buffers: list[s.BufferT] = [s.BufferT()]
        self.ops: list[s.OperatorT] = []
        self.codes: list[str] = []

    # ---- tensors -------------------------------------------------------------------------

    def tensor(self, shape, dtype="int8", scale=(0.05,), zero_point=(0,), data=None,
               axis=0) -> int:
        t = s.TensorT()
        t.shape = list(shape)
        t.type = _TYPES[dtype]
        t.name = f"t{len(self.tensors)}".encode()
        if scale is not None:
            q = s.QuantizationParametersT()
            q.scale = [float(v) for v in scale]
            q.zeroPoint = [int(v) for v in zero_point]
            q.quantizedDimension = axis
            t.quantization = q
        t.buffer = 0
        if data is not None:
            b = s.BufferT()
            b.data = list(np.ascontiguousarray(data, dtype=dtype).tobytes())
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        self.shapes.append(tuple(shape))
        self.scales.append(float(scale[0]) if scale is not None else 1.0)
        return len(self.tensors) - 1

    def input(self, shape, scale=0.05, zero_point=-3, dtype="int8") -> int:
        return self.tensor(shape, dtype, (scale,), (zero_point,))

    def op(self, name, inputs, outputs, options_type=0, options=None) -> None:
        if name not in self.codes:
            self.codes.append(name)
        o = s.OperatorT()
        o.opcodeIndex = self.codes.index(name)
        o.inputs, o.outputs = list(inputs), list(outputs)
        o.builtinOptionsType = options_type
        o.builtinOptions = options
        self.ops.append(o)

    # ---- layers (random weights, scales chosen so outputs use the int8 range) -------------

    def _out(self, shape, scale, zero_point=-5) -> int:
        return self.tensor(shape, "int8", (scale,), (zero_point,))

    def _weights(self, shape, axis, count):
        w = self.rng.integers(-127, 128, size=shape, dtype=np.int8)
        ws = self.rng.uniform(0.002, 0.01, size=count)
        return self.tensor(shape, "int8", ws, (0,) * count, w, axis), ws

    def _bias(self, count, in_scale, ws):
        b = self.rng.integers(-2000, 2000, size=count, dtype=np.int32)
        return self.tensor((count,), "int32", tuple(in_scale * ws), (0,) * count, b)

    def conv2d(self, x, cout, k, stride=1, padding="SAME", activation="NONE") -> int:
        n, h, w, cin = self.shapes[x]
        wt, ws = self._weights((cout, k, k, cin), 0, cout)
        bias = self._bias(cout, self.scales[x], ws)
        oh, ow = _out_size(h, k, stride, padding), _out_size(w, k, stride, padding)
        y = self._out((n, oh, ow, cout), self.scales[x] * 0.006 * (k * k * cin) ** 0.5 * 40)
        opt = s.Conv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = _PAD[padding], stride, stride
        opt.fusedActivationFunction = _ACT[activation]
        self.op("CONV_2D", [x, wt, bias], [y], s.BuiltinOptions.Conv2DOptions, opt)
        return y

    def depthwise(self, x, k, stride=1, padding="SAME", activation="NONE", multiplier=1,
                  dilation=1) -> int:
        n, h, w, c = self.shapes[x]
        c *= multiplier
        wt, ws = self._weights((1, k, k, c), 3, c)
        bias = self._bias(c, self.scales[x], ws)
        ek = (k - 1) * dilation + 1
        oh, ow = _out_size(h, ek, stride, padding), _out_size(w, ek, stride, padding)
        y = self._out((n, oh, ow, c), self.scales[x] * 0.006 * k * 40)
        opt = s.DepthwiseConv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = _PAD[padding], stride, stride
        opt.dilationHFactor = opt.dilationWFactor = dilation
        opt.depthMultiplier = multiplier
        opt.fusedActivationFunction = _ACT[activation]
        self.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y],
                s.BuiltinOptions.DepthwiseConv2DOptions, opt)
        return y

    def fully_connected(self, x, units, activation="NONE") -> int:
        n, cin = self.shapes[x]
        wt, ws = self._weights((units, cin), 0, 1)
        bias = self._bias(1, self.scales[x], ws)
        self.tensors[bias].shape = [units]
        self.buffers[self.tensors[bias].buffer].data = list(
            self.rng.integers(-2000, 2000, size=units, dtype=np.int32).tobytes())
        y = self._out((n, units), self.scales[x] * 0.006 * cin ** 0.5 * 40)
        opt = s.FullyConnectedOptionsT()
        opt.fusedActivationFunction = _ACT[activation]
        self.op("FULLY_CONNECTED", [x, wt, bias], [y],
                s.BuiltinOptions.FullyConnectedOptions, opt)
        return y

    def pool(self, x, kind, k, stride, padding="VALID") -> int:
        n, h, w, c = self.shapes[x]
        oh, ow = _out_size(h, k, stride, padding), _out_size(w, k, stride, padding)
        t = self.tensors[x].quantization
        y = self.tensor((n, oh, ow, c), "int8", t.scale, t.zeroPoint)
        opt = s.Pool2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = _PAD[padding], stride, stride
        opt.filterHeight = opt.filterWidth = k
        self.op(kind, [x], [y], s.BuiltinOptions.Pool2DOptions, opt)
        return y

    def add(self, a, b, activation="NONE") -> int:
        y = self._out(self.shapes[a], max(self.scales[a], self.scales[b]) * 1.5, -2)
        opt = s.AddOptionsT()
        opt.fusedActivationFunction = _ACT[activation]
        self.op("ADD", [a, b], [y], s.BuiltinOptions.AddOptions, opt)
        return y

    def reshape(self, x, shape) -> int:
        size = int(np.prod(self.shapes[x]))
        shape = tuple(size // -int(np.prod(shape)) if d == -1 else d for d in shape)
        q = self.tensors[x].quantization
        y = self.tensor(shape, "int8", q.scale, q.zeroPoint)
        new_shape = self.tensor((len(shape),), "int32", None, None, np.array(shape, np.int32))
        opt = s.ReshapeOptionsT()
        opt.newShape = list(shape)
        self.op("RESHAPE", [x, new_shape], [y], s.BuiltinOptions.ReshapeOptions, opt)
        return y

    def pad(self, x, pads) -> int:
        shape = tuple(d + a + b for d, (a, b) in zip(self.shapes[x], pads, strict=True))
        q = self.tensors[x].quantization
        y = self.tensor(shape, "int8", q.scale, q.zeroPoint)
        p = self.tensor((len(pads), 2), "int32", None, None, np.array(pads, np.int32))
        self.op("PAD", [x, p], [y])
        return y

    def mean(self, x, keep_dims=True, scale=None, zero_point=None) -> int:
        n, _, _, c = self.shapes[x]
        q = self.tensors[x].quantization
        y = self.tensor((n, 1, 1, c) if keep_dims else (n, c), "int8",
                        q.scale if scale is None else (scale,),
                        q.zeroPoint if zero_point is None else (zero_point,))
        axes = self.tensor((2,), "int32", None, None, np.array([1, 2], np.int32))
        opt = s.ReducerOptionsT()
        opt.keepDims = keep_dims
        self.op("MEAN", [x, axes], [y], s.BuiltinOptions.ReducerOptions, opt)
        return y

    def quantize(self, x, scale=0.05, zero_point=3) -> int:
        y = self.tensor(self.shapes[x], "int8", (scale,), (zero_point,))
        self.op("QUANTIZE", [x], [y])
        return y

    def dequantize(self, x) -> int:
        y = self.tensor(self.shapes[x], "float32", None, None)
        self.op("DEQUANTIZE", [x], [y])
        return y

    def softmax(self, x) -> int:
        y = self.tensor(self.shapes[x], "int8", (1 / 256,), (-128,))
        opt = s.SoftmaxOptionsT()
        opt.beta = 1.0
        self.op("SOFTMAX", [x], [y], s.BuiltinOptions.SoftmaxOptions, opt)
        return y

    # ---- the file -------------------------------------------------------------------------

    def build(self, inputs, outputs) -> bytes:
        sub = s.SubGraphT()
        sub.tensors, sub.inputs, sub.outputs, sub.operators = self.tensors, inputs, outputs, \
            self.ops
        model = s.ModelT()
        model.version = 3
        model.subgraphs = [sub]
        model.buffers = self.buffers
        model.operatorCodes = []
        for name in self.codes:
            c = s.OperatorCodeT()
            c.builtinCode = _CODE[name]
            c.deprecatedBuiltinCode = min(_CODE[name], 127)
            c.version = 1
            model.operatorCodes.append(c)
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def _out_size(size: int, k: int, stride: int, padding: str) -> int:
    return (size + stride - 1) // stride if padding == "SAME" else (size - k) // stride + 1


def small_cnn(seed: int = 0) -> bytes:
    """conv 3x3 -> depthwise 3x3 -> pointwise + residual add -> avg pool -> fc -> softmax."""
    b = ModelBuilder(seed)
    x = b.input((1, 8, 8, 3))
    c1 = b.conv2d(x, 8, 3, activation="RELU")
    d1 = b.depthwise(c1, 3, activation="RELU6")
    p1 = b.conv2d(d1, 8, 1)
    a = b.add(p1, c1, activation="RELU")
    pool = b.pool(a, "AVERAGE_POOL_2D", 2, 2)
    mp = b.pool(pool, "MAX_POOL_2D", 2, 2)
    fc = b.fully_connected(b.reshape(mp, (1, -1)), 5)
    return b.build([x], [b.softmax(fc)])


def pad_mean_model(seed: int = 0, same_quant: bool = False) -> bytes:
    """conv -> PAD -> MEAN over H, W (keep dims) -> fc: the ops the MLPerf models lack."""
    b = ModelBuilder(seed)
    x = b.input((1, 6, 5, 4), scale=0.07, zero_point=-9)
    y = b.conv2d(x, 6, 3, activation="RELU")
    y = b.pad(y, [[0, 0], [1, 2], [2, 1], [0, 0]])
    scale = None if same_quant else b.scales[y] * 0.37
    y = b.mean(y, keep_dims=True, scale=scale, zero_point=None if same_quant else 7)
    return b.build([x], [b.fully_connected(b.reshape(y, (1, -1)), 3)])


def float_edges_model(seed: int = 0) -> bytes:
    """float input -> QUANTIZE -> conv -> QUANTIZE (int8 requantise) -> DEQUANTIZE -> float."""
    b = ModelBuilder(seed)
    x = b.tensor((1, 5, 5, 2), "float32", None, None)
    q = b.quantize(x, 0.04, 3)
    y = b.conv2d(q, 4, 3, activation="RELU")
    y = b.quantize(y, b.scales[y] * 1.7, -20)
    return b.build([x], [b.dequantize(y)])


def depth_multiplier_model(seed: int = 0) -> bytes:
    """Depthwise with channel multiplier 2 and dilation 2, then a strided VALID one."""
    b = ModelBuilder(seed)
    x = b.input((1, 9, 9, 3), scale=0.06, zero_point=5)
    y = b.depthwise(x, 3, multiplier=2, dilation=2, activation="RELU")
    y = b.depthwise(y, 3, stride=2, padding="VALID")
    return b.build([x], [y])

"""Reading an int8 .tflite flatbuffer into a `Graph`, with the `tflite` package's reader.

Only what the model path can run is accepted: the operators in `graph.SUPPORTED_OPS`, a single
subgraph, int8 activations (float only at QUANTIZE/DEQUANTIZE edges). Everything else is refused
with an `UnsupportedModelError` naming the operator and its index (exit 65), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from mcusim.nn.graph import (
    ACTIVATIONS,
    SUPPORTED_OPS,
    AddOptions,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Graph,
    MeanOptions,
    NoOptions,
    Operator,
    OpOptions,
    Pool2DOptions,
    Quantization,
    ReshapeOptions,
    SoftmaxOptions,
    Tensor,
    UnsupportedModelError,
)
from mcusim.nn.sim_api import InputError, MissingInputError

_DTYPES = {tflite.TensorType.FLOAT32: "float32", tflite.TensorType.FLOAT16: "float16",
           tflite.TensorType.INT32: "int32", tflite.TensorType.UINT8: "uint8",
           tflite.TensorType.INT64: "int64", tflite.TensorType.BOOL: "bool",
           tflite.TensorType.INT16: "int16", tflite.TensorType.INT8: "int8"}
_WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
_PADDING = {tflite.Padding.SAME: "SAME", tflite.Padding.VALID: "VALID"}


def load_model(path: str | Path) -> Graph:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MissingInputError(f"{path}: no such model file") from None
    except OSError as e:
        raise MissingInputError(f"{path}: cannot read: {e.strerror}") from None
    return parse_model(data, name=path.stem, source=str(path))


def parse_model(data: bytes, name: str = "model", source: str | None = None) -> Graph:
    """The graph of a .tflite flatbuffer; `name` is the graph's (the generated code's and
    the results'), `source` how messages name the model (the file as the user gave it)."""
    where = source or name
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise InputError(f"{where}: not a TensorFlow Lite flatbuffer (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        return _convert(model, name, where)
    except (UnsupportedModelError, InputError):
        raise
    except Exception:  # noqa: BLE001 - a truncated or corrupt flatbuffer fails deep in the reader
        raise InputError(f"{where}: malformed .tflite flatbuffer (truncated or corrupt: the "
                         f"reader found offsets past the end of its {len(data):,} bytes or "
                         "fields of the wrong type)") from None


def _convert(model: tflite.Model, name: str, where: str) -> Graph:
    if model.SubgraphsLength() != 1:
        raise UnsupportedModelError(
            f"{where}: the model has {model.SubgraphsLength()} subgraphs; only single-subgraph "
            "models (no control flow) are supported")
    sub = model.Subgraphs(0)
    tensors = [_tensor(model, sub.Tensors(i), i) for i in range(sub.TensorsLength())]
    operators = []
    for i in range(sub.OperatorsLength()):
        op = sub.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        op_name = BUILTIN_OPCODE2NAME.get(builtin, f"builtin {builtin}")
        if op_name == "CUSTOM":
            custom = code.CustomCode()
            op_name = f"CUSTOM ({custom.decode(errors='replace') if custom else '?'})"
        if op_name not in SUPPORTED_OPS:
            raise UnsupportedModelError(
                f"{where}: operator #{i} {op_name} is not supported by mcusim nn (supported: "
                f"{', '.join(SUPPORTED_OPS)})")
        inputs = tuple(None if t < 0 else int(t) for t in op.InputsAsNumpy()) \
            if op.InputsLength() else ()
        outputs = tuple(int(t) for t in op.OutputsAsNumpy()) if op.OutputsLength() else ()
        operators.append(Operator(i, op_name, inputs, outputs, _options(op, op_name, i, where)))
    graph = Graph(name=name, tensors=tensors, operators=operators,
                  inputs=[int(t) for t in sub.InputsAsNumpy()] if sub.InputsLength() else [],
                  outputs=[int(t) for t in sub.OutputsAsNumpy()] if sub.OutputsLength() else [])
    _check_int8(graph, where)
    return graph


def _tensor(model: tflite.Model, t: tflite.Tensor, index: int) -> Tensor:
    dtype = _DTYPES.get(t.Type(), f"type {t.Type()}")
    shape = tuple(int(s) for s in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    quant = None
    q = t.Quantization()
    if q is not None and q.ScaleLength():
        scales = tuple(float(s) for s in q.ScaleAsNumpy())
        zps = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else \
            (0,) * len(scales)
        quant = Quantization(scales, zps, int(q.QuantizedDimension()))
    data = None
    buf = model.Buffers(t.Buffer()) if t.Buffer() > 0 else None
    if buf is not None and buf.DataLength() and dtype in _DTYPES.values():
        raw = buf.DataAsNumpy().tobytes()
        data = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
        data = data.reshape(shape) if shape else data.reshape(())
    return Tensor(index, t.Name().decode(errors="replace"), shape, dtype, quant, data)


def _activation(code: int, op_name: str, index: int, model: str) -> str:
    if code >= len(ACTIVATIONS):
        raise UnsupportedModelError(
            f"{model}: operator #{index} {op_name} has fused activation {code} (only NONE, "
            "RELU, RELU_N1_TO_1 and RELU6 are supported)")
    return ACTIVATIONS[code]


def _options(op: tflite.Operator, op_name: str, index: int, model: str) -> OpOptions:
    table = op.BuiltinOptions()

    def read(cls: type) -> object | None:
        if table is None:
            return None
        o = cls()
        o.Init(table.Bytes, table.Pos)
        return o

    def act(o: object) -> str:
        return _activation(o.FusedActivationFunction(), op_name, index, model)

    if op_name == "CONV_2D":
        o = read(tflite.Conv2DOptions)
        return Conv2DOptions(_PADDING[o.Padding()], o.StrideH(), o.StrideW(),
                             o.DilationHFactor(), o.DilationWFactor(), act(o))
    if op_name == "DEPTHWISE_CONV_2D":
        o = read(tflite.DepthwiseConv2DOptions)
        return DepthwiseConv2DOptions(_PADDING[o.Padding()], o.StrideH(), o.StrideW(),
                                      o.DepthMultiplier(), o.DilationHFactor(),
                                      o.DilationWFactor(), act(o))
    if op_name == "FULLY_CONNECTED":
        o = read(tflite.FullyConnectedOptions)
        return FullyConnectedOptions() if o is None else \
            FullyConnectedOptions(act(o), bool(o.KeepNumDims()))
    if op_name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = read(tflite.Pool2DOptions)
        return Pool2DOptions(_PADDING[o.Padding()], o.StrideH(), o.StrideW(), o.FilterHeight(),
                             o.FilterWidth(), act(o))
    if op_name == "ADD":
        o = read(tflite.AddOptions)
        return AddOptions() if o is None else AddOptions(act(o))
    if op_name == "RESHAPE":
        o = read(tflite.ReshapeOptions)
        shape = tuple(int(s) for s in o.NewShapeAsNumpy()) if o and o.NewShapeLength() else ()
        return ReshapeOptions(shape)
    if op_name == "SOFTMAX":
        o = read(tflite.SoftmaxOptions)
        return SoftmaxOptions(float(o.Beta()) if o else 1.0)
    if op_name == "MEAN":
        o = read(tflite.ReducerOptions)
        return MeanOptions(bool(o.KeepDims()) if o else False)
    return NoOptions()


def _check_int8(graph: Graph, where: str) -> None:
    """Every activation an operator computes on must be int8; float appears only on the outer
    side of QUANTIZE (input edge) and DEQUANTIZE (output edge)."""
    for op in graph.operators:
        edge_in = op.type == "QUANTIZE"
        edge_out = op.type == "DEQUANTIZE"
        for pos, t in enumerate(graph.input_tensors(op)):
            if t is None or (edge_in and pos == 0 and t.dtype == "float32"):
                continue
            if t.is_const:
                if pos == 1 and op.type in _WEIGHTED and t.dtype != "int8":
                    _refuse(where, op, t, "weights")
                continue
            if t.dtype != "int8":
                _refuse(where, op, t, "input")
        for t in (graph.tensors[i] for i in op.outputs):
            if t.dtype != "int8" and not (edge_out and t.dtype == "float32"):
                _refuse(where, op, t, "output")
        for t in (graph.tensors[i] for i in (*op.inputs, *op.outputs) if i is not None):
            if t.dtype == "int8" and not t.is_const and t.quant is None:
                raise UnsupportedModelError(
                    f"{where}: tensor '{t.name}' of operator #{op.index} {op.type} is int8 "
                    "without quantisation parameters")


def _refuse(where: str, op: Operator, t: Tensor, role: str) -> None:
    raise UnsupportedModelError(
        f"{where}: not a fully int8-quantised model: operator #{op.index} {op.type} has "
        f"{t.dtype} {role} '{t.name}'. mcusim nn runs int8 models (per-channel int8 weights, "
        "int32 biases); convert with full-integer post-training quantisation "
        "(TFLiteConverter with representative data, inference_input_type=tf.int8).")

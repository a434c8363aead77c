"""The model path's intermediate representation: a small typed graph of an int8 network.

A `Graph` is what the importer makes of a .tflite file and what every later stage (schedule,
planner, reference, code generation, Pex, approximate kernels) reads. It holds no flatbuffer
objects: tensors carry their shape, dtype, quantisation and constant data as numpy arrays,
operators their type, tensor indices and typed options. Layouts are TFLite's: activations NHWC,
conv filters OHWI, depthwise filters 1HW(C*M), fully connected weights (out, in).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from mcusim.nn.sim_api import InputError

ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")
SUPPORTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D",
                 "MAX_POOL_2D", "ADD", "RESHAPE", "SOFTMAX", "PAD", "MEAN", "QUANTIZE",
                 "DEQUANTIZE")


class UnsupportedModelError(InputError):
    """The model is a valid .tflite the model path cannot run (operator, type, structure)."""


_ITEMSIZE = {"int8": 1, "uint8": 1, "int16": 2, "int32": 4, "int64": 8, "float32": 4,
             "float16": 2, "bool": 1}


@dataclass(frozen=True)
class Quantization:
    """Affine quantisation real = scale * (q - zero_point); per channel along `axis` when
    `scale` has more than one entry (TFLite: conv weights along 0, depthwise along 3)."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: "int8", "int32", "float32", ...
    quant: Quantization | None = None
    data: np.ndarray | None = None  # constant tensors (weights, biases, shapes); None otherwise

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * _ITEMSIZE[self.dtype]

    @property
    def scale(self) -> float:
        """The (first) scale; per-tensor quantised activations have exactly one."""
        assert self.quant is not None, f"tensor {self.name} is not quantised"
        return self.quant.scale[0]

    @property
    def zero_point(self) -> int:
        assert self.quant is not None, f"tensor {self.name} is not quantised"
        return self.quant.zero_point[0]


# ---- operator options (one small class per option table we use) ---------------------------


@dataclass(frozen=True)
class Conv2DOptions:
    padding: str  # "SAME" or "VALID"
    stride_h: int
    stride_w: int
    dilation_h: int = 1
    dilation_w: int = 1
    activation: str = "NONE"


@dataclass(frozen=True)
class DepthwiseConv2DOptions:
    padding: str
    stride_h: int
    stride_w: int
    depth_multiplier: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    activation: str = "NONE"


@dataclass(frozen=True)
class FullyConnectedOptions:
    activation: str = "NONE"
    keep_num_dims: bool = False


@dataclass(frozen=True)
class Pool2DOptions:
    padding: str
    stride_h: int
    stride_w: int
    filter_h: int
    filter_w: int
    activation: str = "NONE"


@dataclass(frozen=True)
class AddOptions:
    activation: str = "NONE"


@dataclass(frozen=True)
class ReshapeOptions:
    new_shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class SoftmaxOptions:
    beta: float = 1.0


@dataclass(frozen=True)
class MeanOptions:
    keep_dims: bool = False


@dataclass(frozen=True)
class NoOptions:
    """PAD, QUANTIZE, DEQUANTIZE: everything is in the tensors."""


OpOptions = (Conv2DOptions | DepthwiseConv2DOptions | FullyConnectedOptions | Pool2DOptions
             | AddOptions | ReshapeOptions | SoftmaxOptions | MeanOptions | NoOptions)


@dataclass
class Operator:
    index: int  # position in the model's (execution) order
    type: str  # TFLite builtin name, e.g. "CONV_2D"
    inputs: tuple[int | None, ...]  # tensor indices; None for an omitted optional input
    outputs: tuple[int, ...]
    options: OpOptions = field(default_factory=NoOptions)


@dataclass
class Graph:
    name: str
    tensors: list[Tensor]
    operators: list[Operator]  # in execution order
    inputs: list[int]
    outputs: list[int]

    def __iter__(self) -> Iterator[Operator]:
        return iter(self.operators)

    def tensor(self, index: int | None) -> Tensor | None:
        return None if index is None else self.tensors[index]

    def input_tensors(self, op: Operator) -> list[Tensor | None]:
        return [self.tensor(i) for i in op.inputs]

    def output_tensor(self, op: Operator) -> Tensor:
        return self.tensors[op.outputs[0]]

    def producer(self, tensor: int) -> Operator | None:
        return next((op for op in self.operators if tensor in op.outputs), None)

    def consumers(self, tensor: int) -> list[Operator]:
        return [op for op in self.operators if tensor in op.inputs]

    def activations(self) -> list[Tensor]:
        """Tensors that live in RAM: every non-constant tensor some operator reads or writes."""
        used = {i for op in self.operators for i in (*op.inputs, *op.outputs) if i is not None}
        used |= set(self.inputs) | set(self.outputs)
        return [t for t in self.tensors if t.index in used and not t.is_const]

    def weight_bytes(self) -> int:
        used = {i for op in self.operators for i in op.inputs if i is not None}
        return sum(t.nbytes for t in self.tensors if t.index in used and t.is_const)

    def macs(self, op: Operator) -> int:
        """Multiply-accumulates of one operator (0 for those without any)."""
        out = self.output_tensor(op)
        if op.type == "CONV_2D":
            w = self.tensors[op.inputs[1]]  # OHWI
            return out.size * w.shape[1] * w.shape[2] * w.shape[3]
        if op.type == "DEPTHWISE_CONV_2D":
            w = self.tensors[op.inputs[1]]  # 1HW(C*M)
            return out.size * w.shape[1] * w.shape[2]
        if op.type == "FULLY_CONNECTED":
            w = self.tensors[op.inputs[1]]  # (out, in)
            return out.size * w.shape[1]
        return 0

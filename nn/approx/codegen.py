"""C generator of approximate CONV_2D / FULLY_CONNECTED kernels, one function per layer.

The generated kernel is the layer's MAC sequence fully unrolled with the kept weights baked into
the code as constants (Armeniakos et al.'s scheme): a skipped position costs no instruction at
all, a kept one is exactly the TFLite int8 MAC. Per output pixel the K operands
(x + input_offset, 0 for padding) are gathered once into an int16 column in the scratch buffer
(two pixels per pass for convolutions, so each constant serves two accumulators), then for each
output channel:

  DSP cores (M4/M7/M33, granularity 2): one `__smlad(col_pair, W_pair, acc)` per kept pair of
      positions (2j, 2j+1), the pair's two int16 weights packed in one 32-bit immediate;
  portable (M0+/M3, granularity 1): `acc += col[k] * W` per kept position.

Requantisation is nn_kernels.h's `nn_finish` with the layer's per-channel multiplier and shift
(the same integers the exact kernel uses), so a configuration that skips nothing is bit-exact
with the exact kernel, and any configuration with the host model (hostmodel.py).

The kept positions arrive in the step's params as a bitmap (`keep`), so the schedule alone fixes
the generated code (and the build cache key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mcusim.nn.approx.layers import MacLayer, mac_layer
from mcusim.nn.graph import Graph
from mcusim.nn.schedule import Step

KERNEL = "approx"


@dataclass(frozen=True)
class EmittedStep:
    definitions: str  # C at file scope
    call: str  # one C statement inside the step's region markers


# ---- the step's params: the keep bitmap --------------------------------------------------


def encode_keep(keep: np.ndarray) -> str:
    """bool (OC, K) -> hex text (row-major bits, numpy packbits order)."""
    return np.packbits(keep.astype(bool).ravel()).tobytes().hex()


def decode_keep(text: str, shape: tuple[int, int]) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(text), np.uint8))
    return bits[:shape[0] * shape[1]].reshape(shape).astype(bool)


def approx_params(keep: np.ndarray, granularity: int, level: dict[str, float]) -> dict[str, Any]:
    return {"keep": encode_keep(keep), "granularity": granularity, "level": level}


def step_weights(graph: Graph, step: Step) -> tuple[MacLayer, np.ndarray]:
    """The layer and the weights its approximate kernel multiplies by (skipped = 0)."""
    layer = mac_layer(graph, graph.operators[step.op])
    keep = decode_keep(step.params["keep"], layer.weights.shape)
    return layer, np.where(keep, layer.weights, 0)


def scratch_bytes(graph: Graph, step: Step) -> int:
    """Two int16 columns of K (rounded up to even) operands, 4-byte aligned."""
    layer = mac_layer(graph, graph.operators[step.op])
    kp = layer.positions + (layer.positions & 1)
    return (2 * 2 * kp + 3) // 4 * 4


# ---- C text ------------------------------------------------------------------------------


def _pair_const(w0: int, w1: int) -> str:
    return f"0x{((int(w1) & 0xFFFF) << 16) | (int(w0) & 0xFFFF):08x}u"


def _channel_body(w: np.ndarray, dsp: bool, cols: int) -> list[str]:
    """Statements accumulating one output channel's kept MACs into a0 (and a1)."""
    lines = []
    if dsp:
        wp = np.zeros(len(w) + (len(w) & 1), np.int64)
        wp[:len(w)] = w
        for j in range(len(wp) // 2):
            if wp[2 * j] == 0 and wp[2 * j + 1] == 0:
                continue
            c = _pair_const(wp[2 * j], wp[2 * j + 1])
            lines.append(f"a0 = __smlad(c0[{j}], {c}, a0);" + (
                f" a1 = __smlad(c1[{j}], {c}, a1);" if cols == 2 else ""))
    else:
        for k, v in enumerate(w):
            if v == 0:
                continue
            lines.append(f"a0 += s0[{k}] * {int(v)};" + (
                f" a1 += s1[{k}] * {int(v)};" if cols == 2 else ""))
    return lines


def _fill_conv(layer: MacLayer, name: str, in_stride: int) -> str:
    g = layer.geometry
    kp = layer.positions + (layer.positions & 1)
    tail = "    *col = 0;\n" if layer.positions & 1 else ""
    return f"""
static void {name}_fill(const int8_t *in, int oy, int ox, int16_t *col)
{{
    const int iy0 = oy * {g.stride_h} - {g.pad_top}, ix0 = ox * {g.stride_w} - {g.pad_left};
    for (int kh = 0; kh < {g.k_h}; ++kh) {{
        const int iy = iy0 + kh * {g.dilation_h};
        for (int kw = 0; kw < {g.k_w}; ++kw) {{
            const int ix = ix0 + kw * {g.dilation_w};
            if (iy >= 0 && iy < {g.in_h} && ix >= 0 && ix < {g.in_w}) {{
                const int8_t *src = in + (iy * {g.in_w} + ix) * {in_stride};
                for (int c = 0; c < {g.in_c}; ++c)
                    *col++ = (int16_t)(src[c] + {layer.input_offset});
            }} else {{
                for (int c = 0; c < {g.in_c}; ++c)
                    *col++ = 0;
            }}
        }}
    }}
{tail}}}  /* {kp} int16 operands */
"""


def _channels(layer: MacLayer, weights: np.ndarray, dsp: bool, cols: int,
              out_stride: int) -> str:
    body = []
    for oc in range(layer.out_channels):
        fin = (f"{int(layer.mult[oc])}, {int(layer.shift[oc])}, {layer.output_offset}, "
               f"{layer.act_min}, {layer.act_max}")
        body.append(f"        {{ int32_t a0 = {int(layer.bias[oc])}"
                    + (f", a1 = {int(layer.bias[oc])};" if cols == 2 else ";"))
        body += ["          " + s for s in _channel_body(weights[oc], dsp, cols)]
        body.append(f"          o0[{oc}] = nn_finish(a0, {fin});")
        if cols == 2:
            body.append(f"          if (two) o1[{oc}] = nn_finish(a1, {fin});")
        body.append("        }")
    del out_stride
    return "\n".join(body)


def generate_layer(layer: MacLayer, weights: np.ndarray, name: str, dsp: bool,
                   in_stride: int | None = None, out_stride: int | None = None,
                   fc_scratch: bool = True) -> str:
    """C definitions of `void <name>(const int8_t *in, int8_t *out, int16_t *scratch)`."""
    kp = layer.positions + (layer.positions & 1)
    ptr = ("const nn_u32a *c0 = (const nn_u32a *)col0, *c1 = (const nn_u32a *)col1;"
           if dsp else "const int16_t *s0 = col0, *s1 = col1;")
    if layer.geometry is None:  # FULLY_CONNECTED, batch 1: one column
        ptr1 = ("const nn_u32a *c0 = (const nn_u32a *)col0;" if dsp
                else "const int16_t *s0 = col0;")
        k = layer.positions
        tail = f"    col0[{k}] = 0;\n" if k & 1 else ""
        col = ("int16_t *col0 = scratch;" if fc_scratch else
               f"int16_t col0[{k + (k & 1)}] __attribute__((aligned(4)));\n    (void)scratch;")
        return f"""
/* approximate FULLY_CONNECTED, operator {layer.op}: {int((weights != 0).sum())} of
 * {weights.size} MACs kept */
static void {name}(const int8_t *in, int8_t *out, int16_t *scratch)
{{
    {col}
    for (int k = 0; k < {k}; ++k)
        col0[k] = (int16_t)(in[k] + {layer.input_offset});
{tail}    {ptr1}
    int8_t *o0 = out;
{_channels(layer, weights, dsp, 1, layer.out_channels)}
}}
"""
    g = layer.geometry
    ins = g.in_c if in_stride is None else in_stride
    outs = layer.out_channels if out_stride is None else out_stride
    return _fill_conv(layer, name, ins) + f"""
/* approximate CONV_2D, operator {layer.op}: {int((weights != 0).sum())} of {weights.size}
 * weights kept */
static void {name}(const int8_t *in, int8_t *out, int16_t *scratch)
{{
    int16_t *col0 = scratch, *col1 = scratch + {kp};
    {ptr}
    for (int oy = 0; oy < {g.out_h}; ++oy) {{
      for (int ox = 0; ox < {g.out_w}; ox += 2) {{
        const int two = ox + 1 < {g.out_w};
        {name}_fill(in, oy, ox, col0);
        if (two)
            {name}_fill(in, oy, ox + 1, col1);
        int8_t *o0 = out + (oy * {g.out_w} + ox) * {outs}, *o1 = o0 + {outs};
{_channels(layer, weights, dsp, 2, outs)}
      }}
    }}
}}
"""


HEADER = """
/* ---- approximate kernels (mcusim.nn.approx) ---- */
#if defined(__ARM_FEATURE_DSP) && !defined(NN_PORTABLE)
#include <arm_acle.h>
#endif
/* The int16 operand columns are read as 32-bit pairs: an aliasing-safe word type. */
typedef uint32_t __attribute__((may_alias)) nn_u32a;
"""


def emit_step(graph: Graph, step: Step, io: Any) -> EmittedStep:
    """The codegen hook (nn/codegen.py): definitions and the call of one approximate step."""
    layer, weights = step_weights(graph, step)
    dsp = int(step.params.get("granularity", 2)) == 2
    name = f"{io.prefix}_approx"
    # A fully connected step gets arena scratch only from planners that ask scratch_bytes();
    # otherwise its one operand column lives on the stack.
    body = generate_layer(layer, weights, name, dsp, fc_scratch=io.scratch != "NULL")
    guard = ("#if !defined(__ARM_FEATURE_DSP) || defined(NN_PORTABLE)\n"
             "#error \"DSP (SMLAD) approximate kernel built for a core without the DSP "
             "extension\"\n#endif\n") if dsp else ""
    # Straight-line code gains little from -O2 over -O1 but compiles ~4x slower (a DSE builds
    # one firmware per candidate), so the generated kernels are built at -O1.
    defs = (HEADER + guard + '#pragma GCC push_options\n#pragma GCC optimize ("O1")\n' + body
            + "#pragma GCC pop_options\n")
    return EmittedStep(defs, f"{name}({io.input}, {io.output}, {io.scratch});")

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
from mcusim.nn.approx.params import decode_keep
from mcusim.nn.graph import Graph
from mcusim.nn.schedule import Step

KERNEL = "approx"


@dataclass(frozen=True)
class EmittedStep:
    definitions: str  # C at file scope
    call: str  # one C statement inside the step's region markers


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


def _units(w: np.ndarray, dsp: bool, slots: np.ndarray | None = None) -> np.ndarray:
    """Per channel, the multiplier of each unit: int16 weight pairs packed in 32 bits (DSP;
    pair j = slots 2j, 2j+1) or single weights (portable); 0 = nothing to compute."""
    if not dsp:
        return w.astype(np.int64)
    wp = np.zeros((w.shape[0], w.shape[1] + (w.shape[1] & 1)), np.int64)
    if slots is None:
        wp[:, :w.shape[1]] = w
    else:
        real = slots >= 0
        wp[:, real] = w[:, slots[real]]
    return ((wp[:, 1::2] & 0xFFFF) << 16) | (wp[:, 0::2] & 0xFFFF)


def _group_body(units: np.ndarray, dsp: bool, cols: int) -> list[str]:
    """Statements accumulating a group of channels (rows of `units`): every operand unit that
    some channel of the group keeps is loaded once per column and used by each such channel.
    Accumulator of channel g, column c: a{g}{c}."""
    lines = []
    for j in np.flatnonzero((units != 0).any(axis=0)):
        if dsp:
            stmt = [f"x{c} = c{c}[{j}];" for c in range(cols)]
            for g, row in enumerate(units):
                if row[j]:
                    stmt += [f"a{g}{c} = __smlad(x{c}, 0x{int(row[j]):08x}u, a{g}{c});"
                             for c in range(cols)]
        else:
            stmt = [f"x{c} = s{c}[{j}];" for c in range(cols)]
            for g, row in enumerate(units):
                if row[j]:
                    stmt += [f"a{g}{c} += x{c} * {int(row[j])};" for c in range(cols)]
        lines.append(" ".join(stmt))
    return lines


def _inverse(slots: np.ndarray | None, k: int) -> np.ndarray:
    """Slot of each position (identity without a slot order)."""
    if slots is None:
        return np.arange(k)
    inv = np.empty(k, np.int64)
    real = slots >= 0
    inv[slots[real]] = np.flatnonzero(real)
    return inv


def _pad_slot(slots: np.ndarray | None, k: int) -> int | None:
    """The slot that stays zero when K is odd."""
    if not k & 1:
        return None
    return k if slots is None else int(np.flatnonzero(slots < 0)[0])


def _interior_copy(layer: MacLayer, in_stride: int, dsp: bool,
                   slots: np.ndarray | None = None) -> str:
    """Unrolled gathering of a window that lies inside the input."""
    g = layer.geometry
    inv = _inverse(slots, layer.positions)
    words = dsp and g.in_c % 4 == 0 and in_stride % 4 == 0 and slots is None
    off = (layer.input_offset & 0xFFFF) * 0x10001
    lines = []
    k = 0
    for kh in range(g.k_h):
        for kw in range(g.k_w):
            base = (kh * g.dilation_h * g.in_w + kw * g.dilation_w) * in_stride
            if words:
                for c in range(0, g.in_c, 4):
                    lines.append(
                        f"{{ const uint32_t w = *(const nn_u32a *)(src0 + {base + c}); "
                        f"const uint32_t e = (uint32_t)__sxtab16({off}u, w), "
                        f"o = (uint32_t)__sxtab16({off}u, (w >> 8) | (w << 24)); "
                        f"*(nn_u32a *)(col + {k}) = (e & 0xFFFFu) | (o << 16); "
                        f"*(nn_u32a *)(col + {k + 2}) = (e >> 16) | (o & 0xFFFF0000u); }}")
                    k += 4
            else:
                for c in range(g.in_c):
                    lines.append(f"col[{inv[k]}] = (int16_t)(src0[{base + c}] + "
                                 f"{layer.input_offset});")
                    k += 1
    return "\n".join("        " + ln for ln in lines)


def _fill_conv(layer: MacLayer, name: str, in_stride: int, dsp: bool,
               slots: np.ndarray | None = None) -> str:
    g = layer.geometry
    table = ""
    if slots is not None:
        # operands go to their slots (see LayerSignificance.slots) through a table
        from mcusim.nn.emit_ops import c_array

        table = c_array("uint16_t", f"{name}_slot", _inverse(slots, layer.positions))
        copy = f"""                for (int c = 0; c < {g.in_c}; ++c)
                    col[*slot++] = (int16_t)(src[c] + {layer.input_offset});"""
        zero = f"""                for (int c = 0; c < {g.in_c}; ++c)
                    col[*slot++] = 0;"""
    elif dsp and g.in_c % 4 == 0 and in_stride % 4 == 0:
        # Four int8 operands per word load; SXTAB16 adds the offset to bytes 0,2 and (rotated)
        # 1,3; the halfwords are put back in order as CMSIS-NN's q7 -> q15 conversion does.
        off = (layer.input_offset & 0xFFFF) * 0x10001
        copy = f"""                for (int c = 0; c < {g.in_c}; c += 4) {{
                    const uint32_t w = *(const nn_u32a *)(src + c);
                    const uint32_t even = (uint32_t)__sxtab16({off}u, w);
                    const uint32_t odd = (uint32_t)__sxtab16({off}u, (w >> 8) | (w << 24));
                    *(nn_u32a *)col = (even & 0xFFFFu) | (odd << 16);
                    *(nn_u32a *)(col + 2) = (even >> 16) | (odd & 0xFFFF0000u);
                    col += 4;
                }}"""
    else:
        copy = f"""                for (int c = 0; c < {g.in_c}; ++c)
                    *col++ = (int16_t)(src[c] + {layer.input_offset});"""
    if slots is None:
        zero = f"""                for (int c = 0; c < {g.in_c}; ++c)
                    *col++ = 0;"""
    kp = layer.positions + (layer.positions & 1)
    pad = _pad_slot(slots, layer.positions)
    tail = f"    col[{pad}] = 0;\n" if pad is not None else ""
    slot_decl = f"    const uint16_t *slot = {name}_slot;\n" if slots is not None else ""
    return table + f"""
static void {name}_fill(const int8_t *in, int oy, int ox, int16_t *col)
{{
    int16_t *const col_base = col;
    (void)col_base;
    const int iy0 = oy * {g.stride_h} - {g.pad_top}, ix0 = ox * {g.stride_w} - {g.pad_left};
    if (iy0 >= 0 && iy0 + {(g.k_h - 1) * g.dilation_h} < {g.in_h} && ix0 >= 0 &&
        ix0 + {(g.k_w - 1) * g.dilation_w} < {g.in_w}) {{
        /* the whole window is inside the input: no bounds checks, constant offsets */
        const int8_t *src0 = in + (iy0 * {g.in_w} + ix0) * {in_stride};
{_interior_copy(layer, in_stride, dsp, slots)}
    {tail}        return;
    }}
{slot_decl}    for (int kh = 0; kh < {g.k_h}; ++kh) {{
        const int iy = iy0 + kh * {g.dilation_h};
        for (int kw = 0; kw < {g.k_w}; ++kw) {{
            const int ix = ix0 + kw * {g.dilation_w};
            if (iy >= 0 && iy < {g.in_h} && ix >= 0 && ix < {g.in_w}) {{
                const int8_t *src = in + (iy * {g.in_w} + ix) * {in_stride};
{copy}
            }} else {{
{zero}
            }}
        }}
    }}
    col = col_base;
{tail}}}  /* {kp} int16 operands */
"""


def _channels(layer: MacLayer, weights: np.ndarray, dsp: bool, cols: int, group: int,
              slots: np.ndarray | None = None) -> str:
    units = _units(weights, dsp, slots)
    xs = ", ".join(f"x{c}" for c in range(cols))
    body = []
    for first in range(0, layer.out_channels, group):
        chans = list(range(first, min(first + group, layer.out_channels)))
        accs = ", ".join(f"a{g}{c} = {int(layer.bias[oc])}" for g, oc in enumerate(chans)
                         for c in range(cols))
        body.append(f"        {{ int32_t {accs}; {'uint32_t' if dsp else 'int32_t'} {xs};")
        body += ["          " + st for st in _group_body(units[chans], dsp, cols)]
        for g, oc in enumerate(chans):
            fin = (f"{int(layer.mult[oc])}, {int(layer.shift[oc])}, {layer.output_offset}, "
                   f"{layer.act_min}, {layer.act_max}")
            body.append(f"          o0[{oc}] = nn_ax_finish(a{g}0, {fin});")
            if cols == 2:
                body.append(f"          if (two) o1[{oc}] = nn_ax_finish(a{g}1, {fin});")
        body.append(f"          (void)x0;{' (void)x1;' if cols == 2 else ''} }}")
    return "\n".join(body)


def _fc_table(layer: MacLayer, weights: np.ndarray, name: str, fc_scratch: bool) -> str:
    """Portable FULLY_CONNECTED as a loop over the kept weights (compacted, with their input
    indices). A fully connected layer uses each weight once per inference, so unrolling buys
    it nothing on cores without SMLAD, and unrolled code would not fit small flash."""
    from mcusim.nn.emit_ops import c_array

    k = layer.positions
    kept = [np.flatnonzero(row) for row in weights]
    idx = np.concatenate(kept) if kept else np.zeros(0, np.int64)
    wts = np.concatenate([weights[o, ks] for o, ks in enumerate(kept)])
    counts = [len(ks) for ks in kept]
    col = ("int16_t *col0 = scratch;" if fc_scratch else
           f"int16_t col0[{k}] __attribute__((aligned(4)));\n    (void)scratch;")
    itype = "uint8_t" if k <= 256 else "uint16_t"
    return (c_array(itype, f"{name}_idx", idx) + c_array("int8_t", f"{name}_w", wts)
            + c_array("uint16_t", f"{name}_n", counts)
            + c_array("int32_t", f"{name}_bias", layer.bias)
            + c_array("int32_t", f"{name}_mult", layer.mult)
            + c_array("int32_t", f"{name}_shift", layer.shift) + f"""
/* approximate FULLY_CONNECTED, operator {layer.op}: {len(idx)} of {weights.size} MACs kept */
static void {name}(const int8_t *in, int8_t *out, int16_t *scratch)
{{
    {col}
    for (int k = 0; k < {k}; ++k)
        col0[k] = (int16_t)(in[k] + {layer.input_offset});
    const {itype} *ix = {name}_idx;
    const int8_t *w = {name}_w;
    for (int o = 0; o < {layer.out_channels}; ++o) {{
        int32_t a = {name}_bias[o];
        for (int n = {name}_n[o]; n > 0; --n)
            a += col0[*ix++] * *w++;
        out[o] = nn_ax_finish(a, {name}_mult[o], {name}_shift[o], {layer.output_offset},
                              {layer.act_min}, {layer.act_max});
    }}
}}
""")


def generate_layer(layer: MacLayer, weights: np.ndarray, name: str, dsp: bool,
                   in_stride: int | None = None, out_stride: int | None = None,
                   fc_scratch: bool = True, slots: np.ndarray | None = None) -> str:
    """C definitions of `void <name>(const int8_t *in, int8_t *out, int16_t *scratch)`."""
    kp = layer.positions + (layer.positions & 1)
    ptr = ("const nn_u32a *c0 = (const nn_u32a *)col0, *c1 = (const nn_u32a *)col1;"
           if dsp else "const int16_t *s0 = col0, *s1 = col1;")
    if layer.geometry is None and not dsp:
        return _fc_table(layer, weights, name, fc_scratch)
    if layer.geometry is None:  # FULLY_CONNECTED, batch 1: one column
        ptr1 = ("const nn_u32a *c0 = (const nn_u32a *)col0;" if dsp
                else "const int16_t *s0 = col0;")
        k = layer.positions
        tail = f"    col0[{k}] = 0;\n" if k & 1 else ""
        col = ("int16_t *col0 = scratch;" if fc_scratch else
               f"int16_t col0[{k + (k & 1)}] __attribute__((aligned(4)));\n    (void)scratch;")
        if slots is None:
            gather = (f"    for (int k = 0; k < {k}; ++k)\n"
                      f"        col0[k] = (int16_t)(in[k] + {layer.input_offset});\n")
        else:
            inv = _inverse(slots, k)
            gather = "".join(f"    col0[{inv[i]}] = (int16_t)(in[{i}] + {layer.input_offset});\n"
                             for i in range(k))
            pad = _pad_slot(slots, k)
            tail = f"    col0[{pad}] = 0;\n" if pad is not None else ""
        return f"""
/* approximate FULLY_CONNECTED, operator {layer.op}: {int((weights != 0).sum())} of
 * {weights.size} MACs kept */
static void {name}(const int8_t *in, int8_t *out, int16_t *scratch)
{{
    {col}
{gather}{tail}    {ptr1}
    int8_t *o0 = out;
{_channels(layer, weights, dsp, 1, 4 if dsp else 2, slots)}
}}
"""
    g = layer.geometry
    ins = g.in_c if in_stride is None else in_stride
    outs = layer.out_channels if out_stride is None else out_stride
    return _fill_conv(layer, name, ins, dsp, slots) + f"""
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
{_channels(layer, weights, dsp, 2, 2 if dsp else 1, slots)}
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

# nn_kernels.h's nn_finish, always inlined: the kernels are compiled at -O1 (see emit_step),
# where gcc does not inline the header's -O2 helpers. Same statements, same integers.
FINISH = """
#ifndef NN_AX_FINISH
#define NN_AX_FINISH
static inline __attribute__((always_inline)) int8_t
nn_ax_finish(int32_t acc, int32_t mult, int32_t shift, int32_t out_offset, int32_t act_min,
             int32_t act_max)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t a = (int32_t)((uint32_t)acc << left);
    int32_t high;
    if (a == INT32_MIN && mult == INT32_MIN) {
        high = INT32_MAX;
    } else {
        const int64_t ab = (int64_t)a * mult;
        const int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
        high = (int32_t)((ab + nudge) / (1ll << 31));
    }
    const int32_t mask = (int32_t)((1u << right) - 1u);
    const int32_t remainder = high & mask;
    const int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    int32_t v = (high >> right) + (remainder > threshold ? 1 : 0) + out_offset;
    v = v < act_min ? act_min : v;
    v = v > act_max ? act_max : v;
    return (int8_t)v;
}
#endif
"""


def emit_step(graph: Graph, step: Step, io: Any) -> EmittedStep:
    """The codegen hook (nn/codegen.py): definitions and the call of one approximate step."""
    layer, weights = step_weights(graph, step)
    dsp = int(step.params.get("granularity", 2)) == 2
    name = f"{io.prefix}_approx"
    # A fully connected step gets arena scratch only from planners that ask scratch_bytes();
    # otherwise its one operand column lives on the stack.
    slots = np.array(step.params["slots"], np.int64) if "slots" in step.params else None
    body = generate_layer(layer, weights, name, dsp, fc_scratch=io.scratch != "NULL",
                          slots=slots)
    guard = ("#if !defined(__ARM_FEATURE_DSP) || defined(NN_PORTABLE)\n"
             "#error \"DSP (SMLAD) approximate kernel built for a core without the DSP "
             "extension\"\n#endif\n") if dsp else ""
    # Straight-line code gains little from -O2 over -O1 but compiles ~4x slower (a DSE builds
    # one firmware per candidate), so the generated kernels are built at -O1.
    defs = (HEADER + guard + '#pragma GCC push_options\n#pragma GCC optimize ("O1")\n'
            + FINISH + body
            + "#pragma GCC pop_options\n")
    return EmittedStep(defs, f"{name}({io.input}, {io.output}, {io.scratch});")

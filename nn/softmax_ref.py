"""TFLite's int8 SOFTMAX (reference_ops::Softmax), with gemmlowp's fixed-point exp and
reciprocal, in plain Python integers (rows are short: a classifier's outputs).

A FixedPoint<int32, I> is represented by its raw int32; products are
SaturatingRoundingDoublingHighMul of raws, sums are raw sums.
"""

from __future__ import annotations

import numpy as np

_MIN, _MAX = -(1 << 31), (1 << 31) - 1


def _srdhm(a: int, b: int) -> int:
    if a == _MIN and b == _MIN:
        return _MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    s = ab + nudge
    return s >> 31 if s >= 0 else -((-s) >> 31)


def _rdpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if remainder > threshold else 0)


def _wrap(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


def _sat_mul_pot(x: int, exponent: int) -> int:
    """SaturatingRoundingMultiplyByPOT<exponent>."""
    if exponent == 0:
        return x
    if exponent < 0:
        return _rdpot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return _MAX
    if x < -threshold:
        return _MIN
    return x << exponent


def _exp_quarter(a: int) -> int:
    """exp_on_interval_between_negative_one_quarter_and_0_excl, 0 integer bits."""
    constant_term = 1895147668
    constant_1_over_3 = 715827883
    x = _wrap(a + (1 << 28))
    x2 = _srdhm(x, x)
    x3 = _srdhm(x2, x)
    x4 = _srdhm(x2, x2)
    x4_over_4 = _sat_mul_pot(x4, -2)
    poly = _sat_mul_pot(_wrap(_srdhm(_wrap(x4_over_4 + x3), constant_1_over_3) + x2), -1)
    return _wrap(constant_term + _srdhm(constant_term, _wrap(x + poly)))


_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
           (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: int, integer_bits: int = 5) -> int:
    """gemmlowp exp_on_negative_values for FixedPoint<int32, integer_bits> -> <int32, 0>."""
    frac = 31 - integer_bits
    one_quarter = 1 << (frac - 2)
    mask = one_quarter - 1
    a_mod = _wrap((a & mask) - one_quarter)
    result = _exp_quarter(_sat_mul_pot(a_mod, integer_bits))  # Rescale<0>
    remainder = _wrap(a_mod - a)
    for exponent, multiplier in _BARREL:
        if integer_bits > exponent and remainder & (1 << (frac + exponent)):
            result = _srdhm(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    if a == 0:
        result = _MAX
    return result


def _one_over_one_plus_x(a: int) -> int:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 (Newton-Raphson, 3 iterations)."""
    s = a + _MAX  # RoundingHalfSum(a, One)
    half_denominator = (s + (1 if s >= 0 else -1)) // 2 if s >= 0 else -((-s + 1) // 2)
    x = _wrap(1515870810 + _srdhm(half_denominator, -1010580540))
    one_f2 = 1 << 29
    for _ in range(3):
        hdx = _srdhm(half_denominator, x)
        one_minus = _wrap(one_f2 - hdx)
        x = _wrap(x + _sat_mul_pot(_srdhm(x, one_minus), 2))
    return _sat_mul_pot(x, 1)  # ExactMulByPot<-1> then Rescale<0> from 1 integer bit


def _reciprocal(x: int, integer_digits: int) -> tuple[int, int]:
    """TFLite GetReciprocal: (raw reciprocal, num_bits_over_unit)."""
    ux = x & 0xFFFFFFFF
    headroom_plus_one = 32 - ux.bit_length() if ux else 32
    num_bits_over_unit = integer_digits - headroom_plus_one
    shifted = _wrap(((ux << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return _one_over_one_plus_x(shifted), num_bits_over_unit


def softmax_rows(rows: np.ndarray, mult: int, left_shift: int, diff_min: int) -> np.ndarray:
    out = np.empty(rows.shape, np.int8)
    for r, row in enumerate(rows):
        row = [int(v) for v in row]
        top = max(row)
        sum_of_exps = 0
        exps = []
        for v in row:
            diff = v - top
            if diff >= diff_min:
                rescaled = _srdhm(_wrap(diff * (1 << left_shift)), mult)
                e = exp_on_negative_values(rescaled)
                exps.append(e)
                sum_of_exps = _wrap(sum_of_exps + _rdpot(e, 12))  # Rescale<12>
            else:
                exps.append(None)
        scale, bits = _reciprocal(sum_of_exps, 12)
        for c, e in enumerate(exps):
            if e is None:
                out[r, c] = -128
                continue
            unsat = _rdpot(_srdhm(scale, e), bits + 31 - 8)
            out[r, c] = max(-128, min(127, unsat - 128))
    return out

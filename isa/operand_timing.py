"""Costs that depend on operand values, computed per execution (isa/cycles/README.md,
"Data-dependent rules")."""

from __future__ import annotations


def significant_bits(value: int) -> int:
    return abs(value).bit_length()


def divide_cycles(dividend: int, divisor: int) -> int:
    """SDIV/UDIV on Cortex-M3/M4 with early termination (compendium.i-0.nl "Division timing",
    measured on a Cortex-M4; corroborated by a published STM32L4R5 leakage model). Operands are
    magnitudes: the sign does not change the time."""
    if dividend == 0 or divisor == 0:
        return 2
    n, d = significant_bits(dividend), significant_bits(divisor)
    if n < d:
        return 3
    return 5 + (n - d) // 4


def long_multiply_cycles(a: int, b: int, low: int, high: int) -> int:
    """UMULL/SMULL/UMLAL/SMLAL on Cortex-M3: the TRM's minimum when both sources fit in 16 bits
    (early termination), its maximum otherwise; the intermediate counts are not documented."""
    return low if significant_bits(a) <= 16 and significant_bits(b) <= 16 else high

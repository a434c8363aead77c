"""Parsing of the sizes and frequencies written in board files and on the command line."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]i?B?|B)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

_FREQ = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(hz|khz|mhz|ghz)?\s*$", re.IGNORECASE)
_FREQ_FACTORS = {"": 1, "hz": 1, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
MAX_FREQUENCY_HZ = 1 << 63
# The largest limit or count option: the counters are 64-bit (C) and "no limit" is above it.
MAX_COUNT = (1 << 62) - 1


def parse_size(value: int | str) -> int:
    """Bytes from an int or a string such as "512K", "1M", "64KiB" (binary units)."""
    if isinstance(value, bool):
        raise ValueError("a size, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a size cannot be negative ({value})")
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a size such as 4096, \"512K\" or \"1M\"")
    unit = (m.group(2) or "").lower()[:1]
    return int(m.group(1)) * _SIZE_FACTORS[unit]


def parse_frequency(value: int | float | str) -> int:
    """Hertz from a number or a string such as "180MHz", "32.768kHz", "16000000"."""
    if isinstance(value, bool):
        raise ValueError("a frequency, not a boolean")
    if isinstance(value, (int, float)):
        hz = float(value)
    else:
        m = _FREQ.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a frequency such as \"16MHz\" or 16000000")
        hz = float(m.group(1)) * _FREQ_FACTORS[(m.group(2) or "").lower()]
    if hz <= 0 or hz != hz:
        raise ValueError(f"a clock frequency must be positive ({value!r})")
    if hz < 1 or hz == float("inf"):
        raise ValueError(f"a clock frequency must be at least 1 Hz and finite ({value!r})")
    if hz >= MAX_FREQUENCY_HZ:  # as the counts and sizes: what a 64-bit counter holds
        raise ValueError(f"a clock frequency of {value!r} is too large (it must be below "
                         "2**63 Hz, what a 64-bit counter holds)")
    return int(round(hz))


def format_size(n: int) -> str:
    """A size the way a board's datasheet gives it, exactly: 512 KiB, 2 MiB, 24 MiB + 16 KiB
    (never 24592 KiB: a memory map of MiB regions and a few KiB ones reads in both)."""
    if n >= 1 << 20 and n % (1 << 10) == 0:
        mib, rest = divmod(n, 1 << 20)
        return f"{mib} MiB" + (f" + {rest >> 10} KiB" if rest else "")
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def format_frequency(hz: int) -> str:
    if hz >= 1_000_000:
        return f"{hz / 1e6:g} MHz"
    if hz >= 1_000:
        return f"{hz / 1e3:g} kHz"
    return f"{hz} Hz"

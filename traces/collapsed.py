"""A profile as collapsed stacks (Brendan Gregg's format), the input of flamegraph.pl,
speedscope and inferno: one `outer;inner;leaf <count>` line per distinct call path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TextIO

from mcusim.traces.profile import Profile

EVENTS = ("cycles",)  # profile.stacks holds self cycles per path; no other event is recorded
UNKNOWN_FRAME = "[unknown]"  # the frame name flamegraph.pl uses for a missing frame


def _frame(name: str) -> str:
    # ';' separates frames and a newline ends the record: neither may appear inside a name.
    # Spaces are fine, since readers split the count off at the last space.
    return name.replace(";", ":").replace("\r", " ").replace("\n", " ") or UNKNOWN_FRAME


def collapsed_lines(profile: Profile, *, event: str = "cycles") -> list[tuple[str, int]]:
    """(stack, count) pairs, sorted by stack; paths equal after cleaning are merged."""
    if event not in EVENTS:
        raise ValueError(f"collapsed stacks: unknown event {event!r} (known: {', '.join(EVENTS)})")
    totals: dict[str, int] = defaultdict(int)
    for path, cycles in profile.stacks.items():
        # An empty path still carries cycles; dropping it would break the sum to self cycles.
        stack = ";".join(_frame(name) for name in path) or UNKNOWN_FRAME
        totals[stack] += cycles
    return sorted((stack, count) for stack, count in totals.items() if count)


def write_collapsed(profile: Profile, out: TextIO, *, event: str = "cycles") -> None:
    """Write one `a;b;c <count>` line per call path (outermost first); zero counts omitted."""
    for stack, count in collapsed_lines(profile, event=event):
        out.write(f"{stack} {count}\n")

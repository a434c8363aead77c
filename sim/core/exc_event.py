"""What the engine tells observers about exceptions (sim/core/exceptions.py raises them):
entries, returns and tail-chains, each with the latency cycles it charged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ExceptionKind = Literal["entry", "return", "tail_chain"]


@dataclass(frozen=True)
class ExceptionEvent:
    """One exception entry, return or tail-chain.

    `cycles` is the latency charged for it (entry: stacking and vector fetch, including flash
    wait states; return: unstacking; tail_chain: the tail-chain latency). The event is raised
    after those cycles were added to the run's cycle count (not to any block), so the latency
    spans [sim.cycles - cycles, sim.cycles). `stack` is "msp" or "psp": the stack the frame is
    pushed on (entry), popped from (return), or that holds the frame kept (tail_chain);
    `sp_before`/`sp_after` are that stack pointer before and after (equal for tail_chain: the
    frame's address). `handler` is the handler entered (entry, tail_chain; Thumb bit clear) or
    the address execution resumes at (return). `number` is the exception number (IPSR value)
    entered, or returned from."""

    kind: ExceptionKind
    number: int
    cycles: int
    stack: Literal["msp", "psp"]
    sp_before: int
    sp_after: int
    handler: int


ExceptionWatcher = Callable[[ExceptionEvent], None]

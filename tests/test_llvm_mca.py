"""Cross-check of straight-line blocks against LLVM's scheduling models (llvm-mca-16), a
reference nobody here wrote. LLVM models steady-state throughput, not the TRM's pipeline
rules, so this reports the agreement and only requires it to be broadly close."""

from __future__ import annotations

import re
import statistics
import subprocess

import pytest

from mcusim.isa.timing import make_timing
from tests.conftest import simulate

TRIPLE = "thumbv7em-none-eabihf"


def _hot_bodies(elf, board: str, n: int = 10) -> list[tuple[str, int]]:
    """(assembly, modelled cycles) of the straight-line part of the hottest blocks."""
    from mcusim.memory.board import load_board

    core = load_board(board).core.name
    run = simulate(elf, board, clock="16MHz", timing=make_timing("table", core))
    out = []
    for blk in sorted(run.sim.blocks.values(), key=lambda b: -b.executions * b.cycles):
        body = [i for i in blk.insns if i.branch is None]
        if len(body) < 3 or any(i.cls == "it" for i in blk.insns):
            continue  # llvm-mca does not take IT blocks
        marks = [blk.cycles_before(i.address) for i in blk.insns] + [blk.cycles]
        ours = sum(marks[k + 1] - marks[k] for k, i in enumerate(blk.insns) if i.branch is None)
        out.append(("\n".join(i.text for i in body) + "\n", ours))
        if len(out) == n:
            break
    return out


def _mca(asm: str, cpu: str) -> float:
    proc = subprocess.run(["llvm-mca-16", f"-mtriple={TRIPLE}", f"-mcpu={cpu}",
                           "-iterations=100"], input=asm, capture_output=True, text=True,
                          check=True)
    return int(re.search(r"Total Cycles:\s+(\d+)", proc.stdout).group(1)) / 100


@pytest.mark.parametrize("board,cpu", [("nucleo-f446re", "cortex-m4"),
                                       ("nucleo-f746zg", "cortex-m7")])
def test_hot_blocks_agree_with_llvm_mca(kernels, board, cpu):
    ratios = []
    for prog in ("conv3x3", "branchy_small", "fc"):
        for asm, ours in _hot_bodies(kernels / board / f"{prog}.elf", board):
            ratios.append(ours / _mca(asm, cpu))
    median = statistics.median(ratios)
    within = sum(0.75 <= r <= 1.33 for r in ratios)
    print(f"{cpu}: {len(ratios)} blocks, median mcusim/llvm-mca {median:.2f}, "
          f"{within} within 25%")
    assert len(ratios) >= 15
    assert 0.75 <= median <= 1.33

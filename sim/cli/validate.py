"""`mcusim validate`: the cycle model against its microbenchmarks, and the kernels report.

Microbenchmarks (kernels_c/ubench) time themselves with DWT_CYCCNT or SysTick; each printed
count is compared with the value derived from the TRM in kernels_c/ubench/expected.toml.
Kernels: modelled cycles, naive (one per instruction) cycles and cycles per MAC of each int8
kernel program's marked region.
"""

from __future__ import annotations

import argparse
import io
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mcusim.base.errors import InputError, MissingInputError, Terminated, UsageError
from mcusim.isa.operand_timing import divide_cycles
from mcusim.sim.core import interrupt

if TYPE_CHECKING:  # the run's machinery is imported by the functions that run (startup)
    from rich.console import Console

    from mcusim.sim.core.engine import Simulation

UBENCH_LINE = re.compile(r"^ubench (\S+) (-?\d+)$", re.MULTILINE)
# Zero flash wait states on every board, so the suite measures the core alone.
UBENCH_CLOCK = "16MHz"
UBENCH_BOARDS = {"cortex-m0plus": "nucleo-g071rb", "cortex-m3": "nucleo-f103rb",
                 "cortex-m4": "nucleo-f446re", "cortex-m7": "nucleo-f746zg",
                 "cortex-m33": "nucleo-u575zi"}
# Cores whose table is a documented approximation: compared, not required to agree.
APPROXIMATE = {"cortex-m7", "cortex-m33"}
KERNELS = ("conv3x3", "conv1x1", "dwconv3x3", "fc", "avgpool", "maxpool", "cnn_chain")


def register(sub: Any) -> None:
    val = sub.add_parser("validate", help="cycle model vs its microbenchmarks; kernels report",
                         description="Run the kernels_c microbenchmarks on each core at zero "
                         "wait states and compare every count with its TRM-derived value, then "
                         "report modelled vs naive cycles and cycles per MAC of the int8 "
                         "kernels. Exits 1 if an exactly modelled core (M0+, M3, M4) disagrees.")
    val.add_argument("--kernels-dir", type=Path, default=None,
                     help="the kernels_c folder, built (default: this installation's "
                     "kernels_c, or $MCUSIM_KERNELS: the one `mcusim nn` builds with)")
    val.add_argument("--boards", default="nucleo-f446re,nucleo-g071rb,nucleo-f103rb,"
                     "nucleo-f746zg,stm32f4-discovery,nucleo-u575zi",
                     help="boards for the kernels report (comma-separated)")
    val.set_defaults(command_main=main)


def main(args: argparse.Namespace, err: Console) -> int:
    if args.kernels_dir is None:  # (the same folder wherever validate is run from)
        from mcusim.nn.paths import kernels_dir

        args.kernels_dir = kernels_dir()
    build = args.kernels_dir / "build"
    if not build.is_dir():
        raise MissingInputError(f"{build} does not exist: run make -C {args.kernels_dir}")
    from mcusim.memory.board import load_board

    boards = [b for b in args.boards.split(",") if b]
    if not boards:
        raise UsageError(f"--boards {args.boards!r}: expected board names, comma-separated")
    for board in boards:  # an unknown name is a usage error before any work (as `run`)
        load_board(board)
    with interrupt.deferred_signals():
        status = main_validate(build, args.kernels_dir.parent.resolve(), boards, out=sys.stdout)
        _stop_if_signalled()  # (one after the last run: each run looks before it starts)
    return status


def evaluate(expression: int | str, refill: int) -> int:
    """An expected.toml value: an integer, or arithmetic in P and div(a, b)."""
    if isinstance(expression, int):
        return expression
    import ast  # (here: `mcusim --help` imports this module)

    tree = ast.parse(expression, mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult,
               ast.USub, ast.Constant, ast.Name, ast.Call, ast.Load)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Name)
                                             and node.id not in ("P", "div")):
            raise InputError(f"expected.toml: {expression!r} is not arithmetic in P and div()")
    code = compile(tree, "<expected.toml>", "eval")
    return int(eval(code, {"__builtins__": {}}, {"P": refill, "div": divide_cycles}))


class Comparison(NamedTuple):  # (no dataclass: `mcusim --help` imports this module)
    core: str
    name: str
    expected: int
    modelled: int | None

    @property
    def agrees(self) -> bool:
        return self.modelled == self.expected


def _run(elf: Path, board: str, timing: str, clock: str | None = None,
         root: Path = Path(".")) -> tuple[Simulation, str]:
    from mcusim.isa.timing import make_timing
    from mcusim.memory.board import load_board
    from mcusim.sim.core.firmware import Firmware
    from mcusim.sim.core.options import ProgramIO, RunOptions
    from mcusim.sim.simulation import make_simulation

    _stop_if_signalled()
    b = load_board(board, clock=clock)
    out = io.BytesIO()
    options = RunOptions(io=ProgramIO(fs_root=root, stdout=out, stderr=io.BytesIO()))
    sim = make_simulation(Firmware.open(elf), b, options,
                          timing=make_timing(timing, b.core.name, b.multiplier == "32-cycle"))
    result = sim.run()
    # Ctrl-C stops validate (130, "mcusim: interrupted") as it stops run; SIGTERM gives 143.
    if result.stop == "interrupted":
        raise KeyboardInterrupt
    if result.stop == "terminated":
        raise Terminated("terminated (SIGTERM)")
    if result.stop != "exit" or result.exit_code != 0:
        raise InputError(f"{elf} did not run to a clean exit on {board}: "
                         f"{result.fault.message if result.fault else result.exit_code}")
    return sim, out.getvalue().decode(errors="replace")


def _stop_if_signalled() -> None:
    """A signal that came outside a run (sim/core/interrupt.py deferred_signals) stops validate
    as one during a run does."""
    signum = interrupt.pending_signal()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    if signum == signal.SIGTERM:
        raise Terminated("terminated (SIGTERM)")


def ubench(build: Path, expected_file: Path, cores: list[str] | None = None) -> list[Comparison]:
    from mcusim.base.tomlfile import load_toml
    from mcusim.isa.cycles import load_cycle_table

    expected = load_toml(expected_file, InputError)
    out: list[Comparison] = []
    for core in cores or list(UBENCH_BOARDS):
        board = UBENCH_BOARDS[core]
        elf = build / board / "ubench.elf"
        if not elf.is_file():
            raise MissingInputError(f"{elf} is missing: build it with make -C kernels_c")
        _, text = _run(elf, board, "table", clock=UBENCH_CLOCK)
        measured = {m.group(1): int(m.group(2)) for m in UBENCH_LINE.finditer(text)}
        refill = load_cycle_table(core).branch_refill
        for name, value in expected.get(core, {}).items():
            out.append(Comparison(core, name, evaluate(value, refill), measured.get(name)))
    return out


class KernelRow(NamedTuple):
    board: str
    program: str
    cycles: int
    naive_cycles: int
    region_cycles: int | None
    macs: int | None

    @property
    def cycles_per_mac(self) -> float | None:
        if not self.macs or self.region_cycles is None:
            return None
        return self.region_cycles / self.macs


def kernels(build: Path, boards: list[str], root: Path) -> list[KernelRow]:
    rows = []
    for board in boards:
        for prog in KERNELS:
            elf = build / board / f"{prog}.elf"
            if not elf.is_file():
                continue
            sim, _ = _run(elf, board, "table", root=root)
            naive, _ = _run(elf, board, "naive", root=root)
            region = sim.region_cycles(prog)
            macs_sym = sim.firmware.symbols.get("mcusim_macs")
            macs = None
            if macs_sym is not None:
                raw = sim.firmware.read(macs_sym.address, 4)
                macs = int.from_bytes(raw, "little") if raw else None
            rows.append(KernelRow(board, prog, sim.cycles, naive.cycles, region, macs))
    return rows


def main_validate(build: Path, root: Path, boards: list[str], out=sys.stderr) -> int:  # noqa: ANN001
    """Print both reports; returns 1 if an exactly-modelled core disagrees."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, width=120, markup=False, emoji=False)
    # Progress on stderr, so the reports on stdout stay clean to read or diff.
    progress = Console(stderr=True, highlight=False, markup=False, emoji=False)
    progress.print("mcusim validate: running the microbenchmarks on each core ...")
    comparisons = ubench(build, build.parent / "ubench" / "expected.toml")
    t = Table(title="microbenchmarks: TRM-derived vs modelled cycles (zero wait states)",
              title_justify="left")
    for col in ("core", "test", "expected", "modelled", ""):
        t.add_column(col, justify="right" if col in ("expected", "modelled") else "left")
    failures = 0
    for c in comparisons:
        mark = "ok" if c.agrees else ("approx." if c.core in APPROXIMATE else "DIFFERS")
        failures += mark == "DIFFERS"
        t.add_row(c.core, c.name, str(c.expected), str(c.modelled), mark)
    console.print(t)
    for core in sorted({c.core for c in comparisons}):
        mine = [c for c in comparisons if c.core == core]
        agree = sum(c.agrees for c in mine)
        total_e = sum(c.expected for c in mine)
        total_m = sum(c.modelled or 0 for c in mine)
        console.print(f"{core}: {agree}/{len(mine)} tests agree exactly; suite total "
                      f"{total_m} modelled vs {total_e} expected ({total_m / total_e:.1%})")
    k = Table(title="int8 kernels: modelled (table) vs naive cycles", title_justify="left")
    for col in ("board", "program", "cycles", "naive", "table/naive", "kernel cycles",
                "MACs", "cycles/MAC"):
        k.add_column(col, justify="left" if col in ("board", "program") else "right")
    progress.print(f"mcusim validate: running the int8 kernels on {', '.join(boards)} ...")
    for r in kernels(build, boards, root):
        progress.print(f"  {r.board} {r.program}: {r.cycles:,} cycles")
        cpm = f"{r.cycles_per_mac:.2f}" if r.cycles_per_mac is not None else "-"
        k.add_row(r.board, r.program, f"{r.cycles:,}", f"{r.naive_cycles:,}",
                  f"{r.cycles / r.naive_cycles:.2f}",
                  f"{r.region_cycles:,}" if r.region_cycles is not None else "-",
                  f"{r.macs:,}" if r.macs else "-", cpm)
    console.print(k)
    return 1 if failures else 0

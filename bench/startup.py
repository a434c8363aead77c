"""Start-up time: `mcusim --help` and `mcusim run hello.elf`, wall time of fresh processes.

    python bench/startup.py [--runs N] [--board B] [--top K]

Runs the installed console script (the `mcusim` beside this Python; `python -m
mcusim.sim.cli` if there is none) N times (default 9) per command and prints the median wall
time and its ratio to the issue-15 targets (0.15 s for --help, 0.4 s for a run of hello.elf),
with the median CPU time and the fastest run beside it (the machine is shared: when the wall
time is well above the CPU time, other work was running).
Python's bytecode cache goes to a private folder (PYTHONPYCACHEPREFIX: even where
PYTHONDONTWRITEBYTECODE is set, the figures are those of an installed mcusim, whose modules
are compiled once), and so does mcusim's block cache (MCUSIM_CACHE_DIR); one warm-up run of
each command fills both. A run with an empty block cache (the very first run of an ELF) is
shown apart. Then: `python -c pass` (the interpreter's own floor), the modules each command
imports, grouped by package, with their share of `python -X importtime`, and the phases of a
run measured in one process (imports, board, ELF, simulation set-up and the decode of every
code span there, the run itself).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = ROOT / "kernels_c" / "build" / "{board}" / "hello.elf"
TARGETS = {"help": 0.15, "run": 0.4}
HEAVY = ("numpy", "capstone", "unicorn", "elftools", "rich", "tflite", "matplotlib")

# Phases of a plain `mcusim run`, in one process; `_place_hooks` decodes every code span of
# the ELF before the run (sim/core/translation.py).
PHASES = r"""
import sys, time
t = [time.perf_counter()]
from mcusim.sim.cli import main
t.append(time.perf_counter())
from mcusim.memory.board import load_board
from mcusim.sim import Firmware, RunOptions, ProgramIO, make_simulation
from mcusim.sim.core.translation import BlockTranslation
t.append(time.perf_counter())
place = BlockTranslation._place_hooks
spent = []
def timed(self):
    t0 = time.perf_counter(); place(self); spent.append(time.perf_counter() - t0)
BlockTranslation._place_hooks = timed
board = load_board(sys.argv[2]); t.append(time.perf_counter())
fw = Firmware.open(sys.argv[1]); t.append(time.perf_counter())
import io
sim = make_simulation(fw, board, RunOptions(io=ProgramIO(stdout=io.BytesIO(), fs_root=sys.argv[3])))
t.append(time.perf_counter())
sim.run(); t.append(time.perf_counter())
names = ["import mcusim.sim.cli", "import the engine", "load_board", "Firmware.open",
         "make_simulation", "run"]
for name, a, b in zip(names, t, t[1:]):
    print(f"{name}\t{b - a}")
    if name == "make_simulation":
        print(f"  of which _place_hooks\t{sum(spent)}")
"""


def mcusim() -> list[str]:
    script = Path(sys.executable).with_name("mcusim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mcusim.sim.cli"]


def command_words(board: str) -> dict[str, list[str]]:
    # --fs-root: hello.elf reads a file of the repository, wherever this runs from
    return {"help": ["--help"], "run": ["run", str(HELLO).format(board=board), "--board", board,
                                        "--fs-root", str(ROOT)]}


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def wall(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process (CPU time says how much of the wall time
    other work on a loaded machine took)."""
    cpu, t0 = _cpu(), time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds, cpu = time.perf_counter() - t0, _cpu() - cpu
    if done.returncode not in (0, 3):  # hello.elf exits 3 on purpose
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): "
                         f"{done.stderr.decode(errors='replace')[-500:]}")
    return seconds, cpu


def median_wall(argv: list[str], env: dict[str, str],
                runs: int) -> tuple[float, float, float]:
    """Median wall, median CPU and fastest wall seconds of `runs` processes after a warm-up
    (caches filled)."""
    wall(argv, env)
    times = [wall(argv, env) for _ in range(runs)]
    return (statistics.median(w for w, _ in times), statistics.median(c for _, c in times),
            min(w for w, _ in times))


def import_breakdown(words: list[str], env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Seconds of `-X importtime` self time, total and per package (mcusim by subpackage)."""
    python = [sys.executable, "-X", "importtime", "-m", "mcusim.sim.cli"]
    done = subprocess.run([*python, *words], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    per: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)$", line)
        if m:
            name = m.group(3)
            parts = name.split(".")
            key = ".".join(parts[:3] if parts[:2] == ["mcusim", "sim"]
                           else parts[:2] if parts[0] == "mcusim" else parts[:1])
            per[key] += int(m.group(1)) / 1e6
    return sum(per.values()), dict(per)


def phases(board: str, env: dict[str, str]) -> list[tuple[str, float]]:
    done = subprocess.run([sys.executable, "-c", PHASES, str(HELLO).format(board=board), board,
                           str(ROOT)], env=env, capture_output=True, text=True, check=True)
    return [(name, float(s)) for name, s in
            (line.split("\t") for line in done.stdout.splitlines() if "\t" in line)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--board", default="nucleo-f446re")
    ap.add_argument("--top", type=int, default=12, help="packages in the import breakdown")
    args = ap.parse_args()
    hello = Path(str(HELLO).format(board=args.board))
    if not hello.exists():
        raise SystemExit(f"{hello} does not exist: run make -C kernels_c")
    words = command_words(args.board)
    commands = {name: [*mcusim(), *w] for name, w in words.items()}
    with tempfile.TemporaryDirectory(prefix="mcusim-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPYCACHEPREFIX=str(Path(tmp) / "pyc"),
                   MCUSIM_CACHE_DIR=str(Path(tmp) / "blocks"))
        floor, floor_cpu, _ = median_wall([sys.executable, "-c", "pass"], env, args.runs)
        figures = {name: median_wall(argv, env, args.runs) for name, argv in commands.items()}
        cold = []
        for i in range(max(3, args.runs // 3)):
            cold.append(wall(commands["run"], {**env, "MCUSIM_CACHE_DIR": f"{tmp}/cold{i}"})[0])
        print(f"start-up, median of {args.runs} fresh processes (wall time; CPU time beside it):")
        print(f"  python -c pass                    {floor:6.3f} s  (cpu {floor_cpu:.3f} s: "
              "the interpreter's floor)")
        for name, label in (("help", "mcusim --help"), ("run", f"mcusim run {hello.name}")):
            (s, cpu, best), target = figures[name], TARGETS[name]
            verdict = "met" if s <= target else "NOT met"
            print(f"  {label:<32}  {s:6.3f} s  (cpu {cpu:.3f} s, fastest {best:.3f} s) = "
                  f"{s / target:.2f} x the target of {target} s ({verdict})")
        print(f"  ... with an empty block cache     {statistics.median(cold):6.3f} s  "
              f"(median of {len(cold)}: the first run of an ELF)")
        for w in words.values():
            total, per = import_breakdown(w, env)
            heavy = [p for p in HEAVY if p in per]
            print(f"\nimports of `mcusim {' '.join(Path(x).name for x in w[:2])}`: "
                  f"{total:.3f} s of import time (-X importtime, self times); heavy: "
                  f"{', '.join(heavy) or 'none'}")
            for key, s in sorted(per.items(), key=lambda kv: -kv[1])[:args.top]:
                print(f"  {key:<28} {s * 1e3:7.1f} ms")
        print("\nphases of a run of hello.elf in one process:")
        for name, s in phases(args.board, env):
            print(f"  {name:<28} {s * 1e3:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

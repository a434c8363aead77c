"""Issue 15's host-speed figures from one sitting: first execution, start-up, steady state.

    python bench/round_two.py [--quick] [--original PYTHON]

Runs bench/first_exec.py (microseconds per distinct instruction, cold and warm), then
bench/startup.py (`mcusim --help` and `mcusim run hello.elf` against the 0.15 s / 0.4 s
targets), then bench/speed.py (simulated MIPS per accounting path; the native path as a share
of bare Unicorn on the conv layer), one after the other on the same machine, so the ratios
they print are comparable. `--quick` uses fewer repetitions (noisier); `--original` is passed to
first_exec.py (the original implementation timed on the same programs). Each script's own
output is passed through unchanged; a failing script stops the sitting with its exit code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (noisier)")
    ap.add_argument("--original", metavar="PYTHON",
                    help="a Python with the original implementation (bench/first_exec.py)")
    args = ap.parse_args()
    original = ["--original", args.original] if args.original else []
    steps = [
        ("first_exec.py", (["--instructions", "20000"] if args.quick else []) + original),
        ("startup.py", ["--runs", "3"] if args.quick else []),
        ("speed.py", ["--repeat", "1"] if args.quick else []),
    ]
    for script, extra in steps:
        print(f"\n== bench/{script} {' '.join(extra)}".rstrip(), flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / script), *extra], check=False)
        print(f"== bench/{script}: {time.perf_counter() - start:.0f} s", flush=True)
        if done.returncode:
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())

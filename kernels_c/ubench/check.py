#!/usr/bin/env python3
"""Checks for the ubench suite (see README.md).

  check.py                           validate expected.toml (every value an integer, "rule",
                                     or an integer expression in P alone)
  check.py --qemu ELF --core CORE    run ELF under qemu-system-arm -M mps2-an386: it must exit 0
                                     and print exactly one `ubench <name> <n>` line per test
                                     listed for CORE in expected.toml
  check.py --output FILE --core CORE --P N
                                     compare a captured run (FILE, `-` for stdin) with the
                                     expected values for CORE at branch refill P = N
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
CORES = ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7")
LINE = re.compile(r"^ubench (\S+) (-?\d+)$")


def load_expected() -> dict[str, dict[str, int | str]]:
    with open(HERE / "expected.toml", "rb") as f:
        return tomllib.load(f)


def evaluate(value: int | str, p: int) -> int | None:
    """The expected cycles at refill P, or None for "rule" (divides)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value == "rule":
        return None
    tree = ast.parse(value, mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Constant, ast.Name,
               ast.Load, ast.UnaryOp, ast.USub)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Name) and node.id != "P") or (
                isinstance(node, ast.Constant) and type(node.value) is not int):
            raise ValueError(f"bad expression {value!r}")
    return eval(compile(tree, "<expected>", "eval"), {"__builtins__": {}}, {"P": p})


def validate(expected: dict) -> list[str]:
    errors = [f"missing table [{c}]" for c in CORES if c not in expected]
    for core, table in expected.items():
        for name, value in table.items():
            try:
                for p in (1, 2, 3):
                    evaluate(value, p)
            except (ValueError, SyntaxError) as e:
                errors.append(f"[{core}] {name}: {e}")
    return errors


def parse_output(text: str) -> dict[str, int]:
    got: dict[str, int] = {}
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if m:
            if m[1] in got:
                raise SystemExit(f"test {m[1]} printed twice")
            got[m[1]] = int(m[2])
    return got


def same_names(core: str, got: dict[str, int], expected: dict) -> list[str]:
    want = set(expected[core])
    return ([f"no output for {n}" for n in sorted(want - set(got))]
            + [f"output for {n}, which [{core}] does not list" for n in sorted(set(got) - want)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qemu", metavar="ELF")
    ap.add_argument("--output", metavar="FILE")
    ap.add_argument("--core", choices=CORES)
    ap.add_argument("--P", type=int, default=None, help="branch refill for --output")
    args = ap.parse_args()

    expected = load_expected()
    errors = validate(expected)
    if args.qemu:
        proc = subprocess.run(
            ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
             "-serial", "stdio", "-semihosting-config", "enable=on,target=native",
             "-kernel", args.qemu],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        got = parse_output(proc.stdout)
        print(f"qemu: exit {proc.returncode}, {len(got)} ubench lines")
        if proc.returncode != 0:
            errors.append(f"qemu exit status {proc.returncode}: {proc.stderr.strip()}")
        errors += same_names(args.core or "cortex-m4", got, expected)
    if args.output:
        if not args.core or args.P is None:
            ap.error("--output needs --core and --P")
        text = sys.stdin.read() if args.output == "-" else Path(args.output).read_text()
        got = parse_output(text)
        errors += same_names(args.core, got, expected)
        for name, value in expected[args.core].items():
            want = evaluate(value, args.P)
            if name in got:
                mark = "" if want is None or want == got[name] else "   <-- differs"
                print(f"{name:26} measured {got[name]:6}  expected {value!s:>14} = "
                      f"{'rule' if want is None else want}{mark}")
    for e in errors:
        print("error:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

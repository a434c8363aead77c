"""`mcusim check MANIFEST.toml`: run the manifest's firmware and compare with the baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcusim.base.errors import MissingInputError, UsageError
from mcusim.base.outputs import OutputPlan, output_path
from mcusim.sim.cli.common import board_file

if TYPE_CHECKING:
    from rich.console import Console

    from mcusim.sim.check.measure import Measurement

EXIT_HELP = """exit status:
  0 every entry ran as expected and no figure grew beyond its tolerance (with --update: the
    baseline was written), 1 a regression: a figure beyond its tolerance, a wrong exit code or
    output, an entry that could not run, or an entry without a baseline (record it with
    --update), 64 bad command line, 65 malformed manifest or baseline, 66 missing manifest,
    baseline or ELF, 73 output not writable"""


def register(sub: Any) -> None:
    """Adds `mcusim check` to the CLI's subcommands; `command_main` is what runs it."""
    p = sub.add_parser(
        "check", help="run a manifest of firmware and compare with a baseline (CI gate)",
        description="Run every entry of a TOML manifest (ELF, board, options, tolerances,\n"
        "expected exit code and output), compare cycles, instructions, stack, peak RAM,\n"
        "flash and region cycles with the baseline JSON, and print the changes. Entries run\n"
        "in parallel; the report, the JUnit file and the baseline are the same bytes for the\n"
        "same inputs.", epilog=EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest", type=Path, help="the TOML manifest")
    p.add_argument("--baseline", type=output_path, metavar="JSON",
                   help="baseline file (default: the manifest's `baseline` field)")
    p.add_argument("--update", action="store_true",
                   help="write the measured figures to the baseline (entries whose run failed "
                        "keep their old figures)")
    p.add_argument("--markdown", action="store_true",
                   help="print the report as Markdown (for a pull-request comment)")
    p.add_argument("--junit", type=output_path, metavar="OUT", help="write a JUnit XML report")
    p.add_argument("--all", action="store_true", help="show unchanged figures too")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                   help="entries run at once (default: the number of CPUs)")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing output file that mcusim did not write")
    p.set_defaults(command_main=main)


def main(args: argparse.Namespace, err: Console) -> int:
    # What the check runs on, imported now that there is a check (sim/cli/__init__.py).
    from rich.console import Console

    from mcusim.sim.check.compare import FAILING, baseline_text, judge_all, load_baseline
    from mcusim.sim.check.manifest import load_manifest
    from mcusim.sim.check.measure import default_jobs
    from mcusim.sim.check.views import junit_xml, markdown, rich_table, summary

    if args.jobs < 0:
        raise UsageError(f"--jobs {args.jobs}: expected 0 (all CPUs) or a positive number")
    if args.manifest.is_dir():
        raise MissingInputError(f"{args.manifest} is a directory, not a manifest .toml file")
    if not args.manifest.is_file():
        raise MissingInputError(f"{args.manifest}: no such manifest file")
    manifest = load_manifest(args.manifest)
    baseline_path = args.baseline or manifest.baseline
    if baseline_path is None:
        raise UsageError(f"{args.manifest} names no baseline file: give --baseline B.json (or "
                         "baseline = \"...\" in the manifest)")
    missing = [e for e in manifest.entries if not e.elf.is_file()]
    if missing:
        raise MissingInputError(
            "no such ELF: " + ", ".join(f"{e.elf} (entry '{e.name}')" for e in missing)
            + "; build the firmware first (for the bundled kernels: make -C kernels_c)")
    # The project's output rule (base/outputs.py): never an input (the manifest, its ELFs
    # and board files, the baseline being compared with), and an existing file that mcusim
    # did not write is only replaced with --force.
    inputs = [args.manifest, *(e.elf for e in manifest.entries),
              *(board_file(e.board) for e in manifest.entries)]
    plan = OutputPlan(inputs if args.update else [*inputs, baseline_path], args.force)
    junit_out = plan.add("--junit", args.junit, "junit", stdout_ok=False)
    if args.update:
        baseline_out = plan.add("--baseline", baseline_path, "baseline", stdout_ok=False)
        previous = load_baseline(baseline_path) if baseline_path.exists() else {}
    else:
        baseline_out = None
        previous = load_baseline(baseline_path)

    measurements = _measure(manifest.entries, args.jobs or default_jobs(), err)
    outcomes = judge_all(manifest, measurements, previous)
    out = Console(highlight=False, soft_wrap=False,
                  width=None if sys.stdout.isatty() else 160)
    if args.markdown:
        sys.stdout.write(markdown(outcomes, args.all))
    else:
        out.print(rich_table(outcomes, args.all))
    sys.stdout.flush()
    plan.write_text(junit_out, lambda f: f.write(junit_xml(outcomes, args.manifest.stem)))
    if baseline_out is not None:
        plan.write_text(baseline_out, lambda f: f.write(
            baseline_text(manifest, outcomes, previous, baseline_path.parent)))
        err.print(f"mcusim: wrote the baseline {baseline_path}", highlight=False, markup=False)
        return 1 if any(o.problems for o in outcomes) else 0
    failing = [o for o in outcomes if o.verdict in FAILING]
    if failing:
        err.print(f"mcusim: check failed ({summary(outcomes)}): "
                  + ", ".join(f"{o.entry.name} ({o.verdict})" for o in failing),
                  highlight=False, soft_wrap=True, markup=False)
        return 1
    return 0


def _measure(entries: list, jobs: int, err: Console) -> list[Measurement]:
    """Measurements in manifest order; a progress bar on a terminal."""
    from mcusim.sim.check.measure import measure_all

    if not err.is_terminal:
        return measure_all(entries, jobs)
    from rich.progress import Progress

    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("mcusim check", total=len(entries))
        return measure_all(entries, jobs, lambda m: progress.advance(task))

"""`mcusim trace`: run a firmware ELF and record its SRAM accesses to a .mtrace file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcusim.base.errors import OutputError
from mcusim.base.outputs import output_path
from mcusim.sim.cli.common import (
    add_target_options,
    argv_warnings,
    board_file,
    check_fs_root,
    clock_warnings,
    positive_int,
    program_argv,
    window,
)

if TYPE_CHECKING:
    from rich.console import Console

    from mcusim.base.outputs import Output
    from mcusim.memory.board_spec import BoardSpec
    from mcusim.sim.core.options import RunOptions
    from mcusim.sim.result import AccessTrace, RunResult


def register(sub: Any) -> None:
    trace = sub.add_parser("trace", help="record SRAM accesses of a run to a .mtrace file",
                           usage="mcusim trace ELF -o OUT [options] [-- PROGRAM_ARGS ...]",
                           description="Run a firmware ELF and record every read and write "
                           "to the board's RAM regions (address, size, cycle, PC of the block), "
                           "with stack and heap curves and region markers, in the .mtrace "
                           "format (traces/mtrace.py). `mcusim view` draws it.")
    add_target_options(trace)
    trace.add_argument("-o", "--output", type=output_path, required=True, metavar="OUT",
                       help="the .mtrace file to write")
    trace.add_argument("--window", type=window, metavar="START:END",
                       help="record only accesses in this cycle window")
    trace.add_argument("--regions", metavar="NAME[,NAME]",
                       help="record only these RAM regions of the board (default: all)")
    trace.add_argument("--max-accesses", type=positive_int, metavar="N",
                       help="stop recording after N accesses (the run goes on)")
    trace.add_argument("--force", action="store_true",
                       help="overwrite an existing file that is not an earlier .mtrace of mcusim")
    trace.set_defaults(command_main=main)


def main(args: argparse.Namespace, err: Console) -> int:
    # The run's machinery, imported now that there is a run (sim/cli/__init__.py).
    from mcusim.base.outputs import OutputPlan
    from mcusim.memory.board import load_board
    from mcusim.sim.cli.progress import run_and_report
    from mcusim.sim.core.firmware import Firmware
    from mcusim.sim.core.options import Limits, MemoryOptions, ProgramIO, RunOptions
    from mcusim.sim.simulation import make_simulation

    plan = OutputPlan([args.elf, board_file(args.board)], args.force)
    out = plan.add("-o", args.output, "mtrace", stdout_ok=False)
    assert out is not None and out.path is not None
    check_fs_root(args.fs_root)
    board = load_board(args.board, clock=args.clock)
    firmware = Firmware.open(args.elf)
    options = RunOptions(
        io=ProgramIO(argv=program_argv(args), fs_root=args.fs_root,
                     stdout=sys.stdout.buffer, stderr=sys.stderr.buffer),
        limits=Limits(max_instructions=args.max_instructions, timeout=args.timeout),
        memory=MemoryOptions(
            record_accesses=True, window=args.window, max_accesses=args.max_accesses,
            record_regions=[r for r in args.regions.split(",") if r] if args.regions else None,
            live_analysis=False))  # `mcusim view` analyses the file
    sim = make_simulation(firmware, board, options)
    return run_and_report(sim, lambda result: _report(args, err, board, options, out, result),
                          err)


def _report(args: argparse.Namespace, err: Console, board: BoardSpec, options: RunOptions,
            out: Output, result: RunResult) -> int:
    """The finished run's warnings and its .mtrace file; the exit status."""
    from mcusim.sim.cli.exit_status import run_status
    from mcusim.sim.cli.report import print_fault, print_warnings

    assert out.path is not None
    sys.stdout.flush()
    result.warnings.extend(argv_warnings(options.io.argv or []))
    result.warnings.extend(clock_warnings(board.clock_hz, board.max_clock_hz, board.name))
    if args.window is not None and args.window[0] >= result.cycles:
        result.warnings.append(f"--window starts at cycle {args.window[0]:,}, after the run "
                               f"ended (at cycle {result.cycles:,}): no access is in it")
    print_fault(err, result)
    print_warnings(err, result.warnings)
    assert result.trace is not None  # recorded: options.memory.record_accesses
    try:
        n = write_trace(result.trace, out.path)
    except OSError as e:
        raise OutputError(f"-o {args.output}: cannot write: {e.strerror}") from None
    dropped = (result.trace.meta.get("recording") or {}).get("dropped") or 0
    more = (f" (--max-accesses {args.max_accesses:,} reached: {dropped:,} later accesses were "
            "not recorded)" if dropped else "")
    err.print(f"mcusim: recorded {n:,} accesses to {args.output}{more}", highlight=False,
              markup=False)
    return run_status(result)


def write_trace(trace: AccessTrace, path: Path) -> int:
    """The recorded accesses as a .mtrace file; how many there are."""
    from mcusim.traces.mtrace import TraceWriter

    with TraceWriter(path, trace.meta) as w:
        w.append(trace.cycle, trace.address, trace.pc, trace.size, trace.kind)
    return len(trace)

"""`mcusim run`: run a firmware ELF on a board and print its summary, profile and memory;
write the result as JSON and the profile's exports."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from mcusim.base.errors import UsageError
from mcusim.base.outputs import output_path
from mcusim.sim.cli.common import (
    DEFAULT_TIMING,
    EXIT_CODES_HELP,
    TIMING_MODELS,
    add_target_options,
    argv_warnings,
    board_file,
    check_fs_root,
    clock_warnings,
    disabled_irq_warnings,
    irq_warnings,
    positive_int,
    program_argv,
    size,
)
from mcusim.sim.gdb import add_gdb_option

if TYPE_CHECKING:
    from rich.console import Console

    from mcusim.base.outputs import Output, OutputPlan
    from mcusim.sim.core.engine import Simulation
    from mcusim.sim.result import RunResult


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run a firmware ELF on a board",
                         usage="mcusim run ELF [options] [-- PROGRAM_ARGS ...]",
                         description="Run a firmware ELF on a simulated board. Program output "
                         "goes to stdout/stderr; mcusim's summary goes to stderr. Arguments "
                         "after -- reach the program's argv.",
                         epilog=EXIT_CODES_HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_options(run)
    run.add_argument("--timing", choices=TIMING_MODELS, default=DEFAULT_TIMING,
                     help="timing model: the core's cycle table, or one cycle per instruction "
                          f"as functional emulators assume (default: {DEFAULT_TIMING})")
    # A flag, so that `--profile app.elf` does not take the ELF for its value; `--profile=lines`
    # and `--profile lines` become --profile-lines (common.profile_words).
    run.add_argument("--profile", action="store_const", const="functions",
                     help="track calls and print the profile: functions (flat and inclusive), "
                          "regions, hot blocks; --profile=MODE picks what: functions (the "
                          "same as --profile) or lines (adds cycles per source line, DWARF)")
    run.add_argument("--profile-lines", dest="profile", action="store_const", const="lines",
                     help="the same as --profile=lines")
    run.add_argument("--sort", choices=("self", "inclusive"), default="self",
                     help="order of the function table (default: self)")
    run.add_argument("--top", type=positive_int, default=20, metavar="N",
                     help="rows in the function and line tables (default: 20)")
    run.add_argument("--region", action="append", default=[], metavar="START:END",
                     help="count cycles between two symbols (repeatable), e.g. "
                          "start_trigger:stop_trigger")
    run.add_argument("--callgrind", type=output_path, metavar="OUT",
                     help="write the profile in callgrind format (kcachegrind, "
                          "callgrind_annotate)")
    run.add_argument("--collapsed", type=output_path, metavar="OUT",
                     help="write collapsed stacks (flamegraph.pl, speedscope)")
    run.add_argument("--trace-out", type=output_path, metavar="OUT",
                     help="write a Chrome/Perfetto trace-event JSON of function and region "
                          "slices on simulated time")
    run.add_argument("--json", type=output_path, metavar="OUT",
                     help="write the result as JSON ('-': to standard output, and the "
                          "program's own standard output then goes to stderr)")
    run.add_argument("--force", action="store_true",
                     help="overwrite an existing output file that mcusim did not write")
    run.add_argument("--max-cycles", type=positive_int, metavar="N",
                     help="stop the run after N cycles (exit 83, a limit)")
    run.add_argument("--max-stack", type=size, metavar="BYTES",
                     help="fail the run if the stack peak exceeds this (e.g. 4K)")
    run.add_argument("--max-ram", type=size, metavar="BYTES",
                     help="fail the run if peak RAM (static + stack + heap) exceeds this")
    run.add_argument("--irq", action="append", default=[], metavar="N@CYCLES[/PERIOD]",
                     help="make IRQ N pending at that cycle (and every PERIOD cycles after), "
                          "as a peripheral would (repeatable), e.g. --irq 3@10000/5000")
    run.add_argument("--fault-handlers", choices=("enter", "report"), default="enter",
                     help="enter: a fault runs the program's handler (HardFault, MemManage, "
                          "BusFault, UsageFault), the run stopping with the fault report when "
                          "the handler is a bare infinite loop or the core locks up; report: "
                          "stop at every fault with the report (default: enter)")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="also list unmodelled peripheral registers the program touched")
    add_gdb_option(run)
    run.set_defaults(command_main=main)


def _region_pairs(specs: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for spec in specs:
        start, sep, end = spec.partition(":")
        if not sep or not start or not end:
            raise UsageError(f"--region {spec!r}: expected START:END, two symbol names")
        pairs.append((start, end))
    return pairs


def main(args: argparse.Namespace, err: Console) -> int:
    # The run's machinery, imported now that there is a run (sim/cli/__init__.py).
    from mcusim.base.outputs import OutputPlan
    from mcusim.isa.timing import make_timing
    from mcusim.memory.board import load_board
    from mcusim.sim.cli.progress import run_and_report
    from mcusim.sim.cli.report import print_warnings
    from mcusim.sim.core.firmware import Firmware
    from mcusim.sim.core.options import (
        IrqSchedule,
        Limits,
        MemoryOptions,
        ProfileOptions,
        ProgramIO,
        RunOptions,
    )
    from mcusim.sim.gdb import debug_run
    from mcusim.sim.simulation import make_simulation

    plan = OutputPlan([args.elf, board_file(args.board)], args.force)
    outputs = _Outputs(plan, plan.add("--json", args.json, "json"),
                       plan.add("--callgrind", args.callgrind, "callgrind"),
                       plan.add("--collapsed", args.collapsed, "collapsed"),
                       plan.add("--trace-out", args.trace_out, "chrome"))
    exporting = any(o is not None for o in outputs.exports)
    check_fs_root(args.fs_root)
    board = load_board(args.board, clock=args.clock)
    firmware = Firmware.open(args.elf)
    profiled = bool(args.profile)
    # `--json -` (or another output to stdout): stdout is that output alone (parseable), so the
    # program's output goes to stderr.
    json_to_stdout = any(o is not None and o.to_stdout for o in (outputs.json, *outputs.exports))
    options = RunOptions(
        io=ProgramIO(argv=program_argv(args), fs_root=args.fs_root,
                     stdin=sys.stdin.buffer if sys.stdin else None,
                     stdout=sys.stderr.buffer if json_to_stdout else sys.stdout.buffer,
                     stderr=sys.stderr.buffer),
        limits=Limits(max_instructions=args.max_instructions, max_cycles=args.max_cycles,
                      timeout=args.timeout),
        symbol_regions=_region_pairs(args.region),
        interrupts=tuple(IrqSchedule.parse(spec) for spec in args.irq),
        fault_handlers=args.fault_handlers,
        profile=(ProfileOptions(lines=args.profile == "lines") if profiled or exporting
                 else None),
        memory=(MemoryOptions(record_accesses=profiled, max_stack=args.max_stack,
                              max_ram=args.max_ram)
                if profiled or args.max_stack is not None or args.max_ram is not None
                else None))
    sim = make_simulation(firmware, board, options, timing=make_timing(
        args.timing, board.core.name, board.multiplier == "32-cycle"))
    # Printed before the run (such a run may never end), recorded in the result after it.
    early_warnings = [*argv_warnings(options.io.argv or []),
                      *irq_warnings(options.interrupts, board.core.name)]
    print_warnings(err, early_warnings)
    if args.gdb is not None:
        return _report(args, err, outputs, sim, debug_run(sim, args.gdb, err), early_warnings)
    return run_and_report(sim, lambda result: _report(args, err, outputs, sim, result,
                                                      early_warnings), err)


class _Outputs(NamedTuple):
    """The files `run` writes (None: not asked for), checked before the run. (No dataclass:
    `mcusim --help` imports this module, and dataclasses costs it ~15 ms.)"""

    plan: OutputPlan
    json: Output | None
    callgrind: Output | None
    collapsed: Output | None
    chrome: Output | None

    @property
    def exports(self) -> tuple[Output | None, ...]:
        return self.callgrind, self.collapsed, self.chrome


def _report(args: argparse.Namespace, err: Console, outputs: _Outputs, sim: Simulation,
            result: RunResult, early_warnings: list[str]) -> int:
    """The finished run's report on stderr and its output files; the exit status."""
    from mcusim.sim.accounting import native_lib
    from mcusim.sim.cli.exit_status import run_status
    from mcusim.sim.cli.report import (
        print_fault,
        print_functions,
        print_hot_blocks,
        print_lines,
        print_memory,
        print_regions,
        print_summary,
        print_unknown_accesses,
    )

    board, options, plan = sim.board, sim.options, outputs.plan
    sys.stdout.flush()
    result.warnings.extend(clock_warnings(board.clock_hz, board.max_clock_hz, board.name))
    result.warnings.extend(disabled_irq_warnings(options.interrupts,
                                                 sim.core_peripherals.exceptions.is_enabled))
    if args.verbose:
        path = ("native hot path" if sim.native else
                f"pure-Python path, {sim.accounting} "
                f"({native_lib.load_error() or 'native path not used'})")
        err.print(f"mcusim: accounting ran on the {path}", highlight=False, markup=False)
        print_unknown_accesses(err, result)
    print_fault(err, result)
    print_summary(err, result)
    print_regions(err, result)
    print_memory(err, result)
    if args.profile:
        print_functions(err, result, top=args.top, sort=args.sort)
        if result.profile is not None:
            print_hot_blocks(err, result.profile)
            if args.profile == "lines":
                print_lines(err, result.profile, top=args.top)
    result.warnings.extend(early_warnings)
    budget = result.memory.over_budget if result.memory is not None else None
    plan.write_text(outputs.json, lambda f: f.write(result.to_json_text()))
    profile = result.profile
    if profile is not None:
        from mcusim.traces.callgrind import write_callgrind
        from mcusim.traces.chrome import write_chrome_trace
        from mcusim.traces.collapsed import write_collapsed

        command = " ".join(["mcusim", "run", str(args.elf)])
        plan.write_text(outputs.callgrind, lambda f: write_callgrind(
            profile, f, command=command, elf=str(args.elf)))
        plan.write_text(outputs.collapsed, lambda f: write_collapsed(profile, f))
        plan.write_text(outputs.chrome, lambda f: write_chrome_trace(profile, f))
        if outputs.chrome is not None and profile.sampled:
            err.print(f"mcusim: note: {profile.sampling_note}", highlight=False, markup=False)
    if budget:
        err.print(f"mcusim: error: {budget}", soft_wrap=True, markup=False)
    return run_status(result, over_budget=bool(budget))


"""The `mcusim` command line: `mcusim run`, `mcusim boards`."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from rich.console import Console

from mcusim.isa.timing import TIMING_MODELS, make_timing
from mcusim.memory.board import available_boards, load_board
from mcusim.memory.units import parse_size
from mcusim.nn import cli as nn_cli
from mcusim.nn.approx import cli as dse_cli
from mcusim.sim.engine import Simulation
from mcusim.sim.errors import ExitCode, McusimError, MissingInputError, OutputError, UsageError
from mcusim.sim.faults import FAULT_EXIT_CODES
from mcusim.sim.firmware import Firmware
from mcusim.sim.report import (
    boards_table,
    print_fault,
    print_functions,
    print_hot_blocks,
    print_lines,
    print_memory,
    print_regions,
    print_summary,
    print_unknown_accesses,
)
from mcusim.sim.result import SCHEMA, RunResult
from mcusim.traces.callgrind import write_callgrind
from mcusim.traces.chrome import write_chrome_trace
from mcusim.traces.collapsed import write_collapsed

DEFAULT_BOARD = "nucleo-f446re"
DEFAULT_TIMING = "table"

EXIT_CODES_HELP = """exit status:
  the program's own exit code when it exits (semihosting SYS_EXIT / SYS_EXIT_EXTENDED), else
  64 bad command line, 65 malformed input (ELF, board file), 66 missing input file,
  73 output not writable, 80 memory fault, 81 undefined instruction or invalid state,
  82 escalated fault (BKPT without debugger, SVC, exception return), 83 instruction/cycle
  limit or infinite loop, 84 system reset requested, 85 memory budget exceeded,
  70 internal error"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _size(text: str) -> int:
    try:
        value = parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return value


def _window(text: str) -> tuple[int, int]:
    start, sep, end = text.partition(":")
    try:
        lo, hi = int(start or 0), int(end) if end else 1 << 63
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END in cycles, got {text!r}") from None
    if not sep or hi <= lo:
        raise argparse.ArgumentTypeError(f"expected START:END in cycles, got {text!r}")
    return lo, hi


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    """What every command that runs firmware takes: the ELF, where it runs, and its limits."""
    parser.add_argument("elf", type=Path, help="ELF built with arm-none-eabi-gcc")
    parser.add_argument("--board", default=DEFAULT_BOARD,
                        help=f"board name or path to a board .toml (default: {DEFAULT_BOARD})")
    parser.add_argument("--clock", help="override the board's clock, e.g. 16MHz")
    parser.add_argument("--fs-root", type=Path, default=Path("."),
                        help="the only host directory the program's file calls may use "
                             "(default: the current directory)")
    parser.add_argument("--max-instructions", type=_positive_int, metavar="N")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mcusim", description="Cycle-approximate Cortex-M simulator.",
                     epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="run a firmware ELF on a board",
                         usage="mcusim run ELF [options] [-- PROGRAM_ARGS ...]",
                         description="Run a firmware ELF on a simulated board. Program output "
                         "goes to stdout/stderr; mcusim's summary goes to stderr. Arguments "
                         "after -- reach the program's argv.",
                         epilog=EXIT_CODES_HELP,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_target_options(run)
    run.add_argument("--timing", choices=TIMING_MODELS, default=DEFAULT_TIMING,
                     help="timing model: the core's cycle table, or one cycle per instruction "
                          f"as functional emulators assume (default: {DEFAULT_TIMING})")
    run.add_argument("--profile", nargs="?", const="functions", choices=("functions", "lines"),
                     help="track calls and print the profile: functions (flat and inclusive), "
                          "regions, hot blocks; =lines adds cycles per source line (DWARF)")
    run.add_argument("--sort", choices=("self", "inclusive"), default="self",
                     help="order of the function table (default: self)")
    run.add_argument("--top", type=_positive_int, default=20, metavar="N",
                     help="rows in the function and line tables (default: 20)")
    run.add_argument("--region", action="append", default=[], metavar="START:END",
                     help="count cycles between two symbols (repeatable), e.g. "
                          "start_trigger:stop_trigger")
    run.add_argument("--callgrind", type=Path, metavar="OUT",
                     help="write the profile in callgrind format (kcachegrind, "
                          "callgrind_annotate)")
    run.add_argument("--collapsed", type=Path, metavar="OUT",
                     help="write collapsed stacks (flamegraph.pl, speedscope)")
    run.add_argument("--trace-out", type=Path, metavar="OUT",
                     help="write a Chrome/Perfetto trace-event JSON of function and region "
                          "slices on simulated time")
    run.add_argument("--json", type=Path, metavar="OUT", help="write the result as JSON")
    run.add_argument("--force", action="store_true",
                     help="overwrite an existing output file that mcusim did not write")
    run.add_argument("--max-cycles", type=_positive_int, metavar="N")
    run.add_argument("--max-stack", type=_size, metavar="BYTES",
                     help="fail the run if the stack peak exceeds this (e.g. 4K)")
    run.add_argument("--max-ram", type=_size, metavar="BYTES",
                     help="fail the run if peak RAM (static + stack + heap) exceeds this")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="also list unmodelled peripheral registers the program touched")

    trace = sub.add_parser("trace", help="record SRAM accesses of a run to a .mtrace file",
                           usage="mcusim trace ELF -o OUT [options] [-- PROGRAM_ARGS ...]",
                           description="Run a firmware ELF and record every read and write "
                           "to the board's RAM regions (address, size, cycle, PC of the block), "
                           "with stack and heap curves and region markers, in the .mtrace "
                           "format (traces/mtrace.py). `mcusim view` draws it.")
    _add_target_options(trace)
    trace.add_argument("-o", "--output", type=Path, required=True, metavar="OUT")
    trace.add_argument("--window", type=_window, metavar="START:END",
                       help="record only accesses in this cycle window")
    trace.add_argument("--regions", metavar="NAME[,NAME]",
                       help="record only these RAM regions of the board (default: all)")
    trace.add_argument("--max-accesses", type=_positive_int, metavar="N",
                       help="stop recording after N accesses (the run goes on)")
    trace.add_argument("--force", action="store_true")

    view = sub.add_parser("view", help="draw a .mtrace file as a PNG and an HTML page",
                          description="Bytes in use over simulated time (static, heap, stack, "
                          "with the live-bytes curve and region markers) and an address-by-time "
                          "heatmap of reads and writes per region; prints a summary.")
    view.add_argument("trace", type=Path)
    view.add_argument("-o", "--output", type=Path, metavar="PNG",
                      help="picture to write (default: the trace's name with .png)")
    view.add_argument("--html", type=Path, help="page to write (default: .html beside it)")

    sub.add_parser("boards", help="list the bundled boards")
    nn_cli.add_parser(sub)  # the model path (issue 10): mcusim nn MODEL.tflite
    dse_cli.add_parser(sub)  # approximate kernels' design-space exploration (issue 12)

    val = sub.add_parser("validate", help="cycle model vs its microbenchmarks; kernels report",
                         description="Run the kernels_c microbenchmarks on each core at zero "
                         "wait states and compare every count with its TRM-derived value, then "
                         "report modelled vs naive cycles and cycles per MAC of the int8 "
                         "kernels. Exits 1 if an exactly modelled core (M0+, M3, M4) disagrees.")
    val.add_argument("--kernels-dir", type=Path, default=Path("kernels_c"),
                     help="the kernels_c folder, built (default: ./kernels_c)")
    val.add_argument("--boards", default="nucleo-f446re,nucleo-g071rb,nucleo-f103rb,"
                     "nucleo-f746zg,stm32f4-discovery",
                     help="boards for the kernels report (comma-separated)")
    return parser


# What the start of each output mcusim writes looks like: an existing file that does not
# look like this is the user's, and is not replaced without --force.
_SIGNATURES = {
    "--json": lambda head: f'"schema": "{SCHEMA}"' in head,
    "--callgrind": lambda head: head.startswith("# callgrind format") and "mcusim" in head,
    "--collapsed": lambda head: all(re.fullmatch(r".* \d+", ln)
                                    for ln in head.splitlines()[:-1]),
    "--trace-out": lambda head: head.startswith('{"traceEvents"'),
    "-o": lambda head: head.startswith("PK\x03\x04"),  # an .mtrace is a zip (npz)
}


def _check_output(option: str, path: Path, force: bool) -> None:
    """Refuse to replace a file the user wrote, unless asked to."""
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file name")
    if not path.parent.exists():
        raise OutputError(f"{option} {path}: directory {path.parent} does not exist")
    if path.exists() and not force:
        try:
            head = path.read_text(errors="replace")[:400]
        except OSError:
            head = "?"
        if head.strip() and not _SIGNATURES[option](head):
            raise OutputError(
                f"{option} {path}: the file exists and was not written by mcusim; not "
                "overwriting it (use --force to replace it)"
            )


def _write(option: str, path: Path, write: Callable[[TextIO], None]) -> None:
    try:
        with open(path, "w") as f:
            write(f)
    except OSError as e:
        raise OutputError(f"{option} {path}: cannot write: {e.strerror}") from None


def _region_pairs(specs: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for spec in specs:
        start, sep, end = spec.partition(":")
        if not sep or not start or not end:
            raise UsageError(f"--region {spec!r}: expected START:END, two symbol names")
        pairs.append((start, end))
    return pairs


def cmd_run(args: argparse.Namespace, err: Console) -> int:
    outputs = {"--json": args.json, "--callgrind": args.callgrind,
               "--collapsed": args.collapsed, "--trace-out": args.trace_out}
    for option, path in outputs.items():
        if path is not None:
            _check_output(option, path, args.force)
    exporting = any(p is not None for o, p in outputs.items() if o != "--json")
    if not args.fs_root.is_dir():
        raise UsageError(f"--fs-root {args.fs_root}: not a directory")
    board = load_board(args.board, clock=args.clock)
    firmware = Firmware.open(args.elf)
    sim = Simulation(
        firmware, board, timing=make_timing(args.timing, board.core.name,
                                            board.multiplier == "32-cycle"),
        fs_root=args.fs_root,
        argv=[str(args.elf), *args.program_args], stdout=sys.stdout.buffer,
        stderr=sys.stderr.buffer, stdin=sys.stdin.buffer if sys.stdin else None,
        max_instructions=args.max_instructions, max_cycles=args.max_cycles,
        profile=bool(args.profile) or exporting, profile_lines=args.profile == "lines",
        symbol_regions=_region_pairs(args.region),
        memory=bool(args.profile) or args.max_stack is not None or args.max_ram is not None,
        record_accesses=bool(args.profile))
    result = sim.run()
    sys.stdout.flush()
    if args.verbose:
        from mcusim.sim import native_path

        path = ("native hot path" if sim.native else
                f"pure-Python path, {sim.accounting} "
                f"({native_path.load_error() or 'native path not used'})")
        err.print(f"mcusim: accounting ran on the {path}", highlight=False)
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
    if args.json is not None:
        _write("--json", args.json, lambda f: f.write(result.to_json_text()))
    profile = result.profile
    if profile is not None:
        command = " ".join(["mcusim", "run", str(args.elf)])
        if args.callgrind is not None:
            _write("--callgrind", args.callgrind, lambda f: write_callgrind(
                profile, f, command=command, elf=str(args.elf)))
        if args.collapsed is not None:
            _write("--collapsed", args.collapsed, lambda f: write_collapsed(profile, f))
        if args.trace_out is not None:
            _write("--trace-out", args.trace_out, lambda f: write_chrome_trace(profile, f))
            if profile.sampled:
                err.print(f"mcusim: note: {profile.sampling_note}", highlight=False)
    budget = _over_budget(args, result)
    if budget:
        err.print(f"mcusim: error: {budget}", soft_wrap=True, markup=False)
        return int(ExitCode.MEMORY_BUDGET)
    if result.exit_code is not None:
        return result.exit_code & 0xFF
    return int(FAULT_EXIT_CODES[result.stop])


def _over_budget(args: argparse.Namespace, result: RunResult) -> str | None:
    m = result.memory
    if m is None:
        return None
    problems = []
    if args.max_stack is not None and m.stack_peak_bytes > args.max_stack:
        problems.append(f"the stack peak of {m.stack_peak_bytes:,} bytes (at "
                        f"{m.stack_peak_pc}) exceeds --max-stack {args.max_stack:,}")
    if args.max_ram is not None and m.peak_ram_bytes > args.max_ram:
        problems.append(f"peak RAM of {m.peak_ram_bytes:,} bytes (static "
                        f"{m.static_ram_bytes:,} + stack and heap at their worst) exceeds "
                        f"--max-ram {args.max_ram:,}")
    return "; ".join(problems) or None


def cmd_trace(args: argparse.Namespace, err: Console) -> int:
    from mcusim.sim.trace_cmd import write_trace

    _check_output("-o", args.output, args.force)
    board = load_board(args.board, clock=args.clock)
    sim = Simulation(
        Firmware.open(args.elf), board, fs_root=args.fs_root,
        argv=[str(args.elf), *args.program_args], stdout=sys.stdout.buffer,
        stderr=sys.stderr.buffer, max_instructions=args.max_instructions, memory=True,
        record_accesses=True, trace_window=args.window, max_accesses=args.max_accesses,
        record_regions=[r for r in args.regions.split(",") if r] if args.regions else None,
        live_analysis=False)  # `mcusim view` analyses the file
    result = sim.run()
    sys.stdout.flush()
    print_fault(err, result)
    try:
        n = write_trace(sim, args.output)
    except OSError as e:
        raise OutputError(f"-o {args.output}: cannot write: {e.strerror}") from None
    err.print(f"mcusim: recorded {n:,} accesses to {args.output}", highlight=False)
    if result.exit_code is not None:
        return result.exit_code & 0xFF
    return int(FAULT_EXIT_CODES[result.stop])


def cmd_boards(out: Console) -> int:
    boards = [load_board(name) for name in available_boards()]
    out.print(boards_table(boards))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    err = Console(stderr=True, highlight=False)
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "--" belongs to the program, even words that look like our options.
    program_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, program_args = argv[:cut], argv[cut + 1:]
    try:
        args = build_parser().parse_args(argv)
        args.program_args = program_args
        if args.command == "run":
            return cmd_run(args, err)
        if args.command == "trace":
            return cmd_trace(args, err)
        if args.command == "view":
            from mcusim.sim.trace_cmd import view

            return view(args)
        if args.command == "boards":
            return cmd_boards(Console(highlight=False))
        if args.command == "nn":
            return nn_cli.main(args, err)
        if args.command == "dse":
            return dse_cli.run(args)
        if args.command == "validate":
            from mcusim.sim.validate import main_validate

            build = args.kernels_dir / "build"
            if not build.is_dir():
                raise MissingInputError(f"{build} does not exist: run make -C {args.kernels_dir}")
            return main_validate(build, args.kernels_dir.parent.resolve(),
                                 [b for b in args.boards.split(",") if b], out=sys.stdout)
        build_parser().print_help(sys.stderr)
        return int(ExitCode.USAGE)
    except McusimError as e:
        err.print(f"mcusim: error: {e}", soft_wrap=True, markup=False)
        return int(e.exit_code)
    except KeyboardInterrupt:
        err.print("mcusim: interrupted", markup=False)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:  # noqa: BLE001 - never show a traceback to users
        if os.environ.get("MCUSIM_DEBUG"):
            raise
        err.print(f"mcusim: internal error: {type(e).__name__}: {e}. This is a bug in mcusim; "
                  "rerun with MCUSIM_DEBUG=1 for a traceback and report it.", soft_wrap=True,
                  markup=False)
        return int(ExitCode.INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""`mcusim nn MODEL.tflite --board NAME`: a TFLite int8 model measured layer by layer."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from mcusim.base.outputs import output_dir, output_path

if TYPE_CHECKING:  # the model path is imported by `main`, so that --help starts fast
    import numpy as np
    from rich.console import Console

    from mcusim.base.outputs import Output, OutputPlan
    from mcusim.nn.graph import Graph
    from mcusim.nn.schedule import Schedule

EXIT_CODES_HELP = """exit status:
  0 outputs match the reference, 1 outputs differ from the reference,
  64 bad command line (unknown board too), 65 malformed or unsupported model (operator,
  non-int8) or input,
  66 missing input file, 70 internal error, 73 output not writable,
  85 the model does not fit the board (needs more RAM or flash than it has),
  130 interrupted (Ctrl-C), 143 terminated (SIGTERM)"""
DEFAULT_BOARD = "nucleo-f446re"


def register(sub: argparse._SubParsersAction) -> None:
    """The registration the command-line package of the struct layout expects."""
    add_parser(sub).set_defaults(command_main=main)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    nn = sub.add_parser(
        "nn", help="build an int8 .tflite model into firmware and measure it layer by layer",
        description="Turn a fully int8-quantised TFLite model into firmware (generated C over "
        "the kernels_c/nn library, built with arm-none-eabi-gcc into a cache), run one "
        "inference on a simulated board, and print cycles, time and memory per layer, checked "
        "against a bit-exact reference of TFLite Micro's kernels.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    nn.add_argument("model", type=Path, help="int8 .tflite model")
    nn.add_argument("--board", default=DEFAULT_BOARD,
                    help=f"board name (default: {DEFAULT_BOARD})")
    nn.add_argument("--clock", help="override the board's clock, e.g. 120MHz")
    nn.add_argument("--input", type=Path, metavar="X.npy",
                    help="model input (default: deterministic pseudo-random values over the "
                         "input's quantised range); float arrays are quantised with the "
                         "input's scale and zero point; a leading batch axis is allowed")
    nn.add_argument("--input-index", type=int, metavar="N",
                    help="which input of a batch (N, ...) in --input to run (default: 0)")
    nn.add_argument("--schedule", default="layers", metavar="SPEC",
                    help="layers (default: operator by operator); pex, pex:N, patch, patch:B, "
                         "pex+patch (partial execution: channel slices, spatial patches); or a "
                         "schedule JSON file")
    nn.add_argument("--check-layers", action="store_true",
                    help="compare every intermediate tensor with the reference, not only "
                         "the outputs")
    nn.add_argument("--live", action="store_true",
                    help="measure live bytes per step (records every RAM access: slow and "
                         "memory-hungry on large models)")
    nn.add_argument("--kernels-in", choices=("auto", "ram", "flash"), default="auto",
                    help="where the kernels' hot loops run: RAM (copied at start-up, ~3 KB) "
                         "avoids flash wait states; auto = RAM when the board's flash has wait "
                         "states and the RAM has room (default)")
    nn.add_argument("--by-op", action="store_true",
                    help="one table row per operator (its steps added up) instead of per step")
    nn.add_argument("--json", type=output_path, metavar="OUT",
                    help="write the result (mcusim.nn/1)")
    nn.add_argument("--emit", type=output_dir, metavar="DIR",
                    help="also write model.c, main.c, input_data.h and a Makefile for the "
                         "real board into DIR")
    nn.add_argument("--force", action="store_true",
                    help="overwrite output files mcusim did not write, or --emit files "
                         "edited since mcusim wrote them")
    try:  # partial execution (issue 11) adds its options (--sweep, --plot)
        from mcusim.nn.pex.options import add_arguments
    except ImportError:
        pass
    else:
        add_arguments(nn)
    try:  # approximate kernels (issue 12) add --approx CONFIG and --calib
        from mcusim.nn.approx.options import add_arguments as approx_arguments
    except ImportError:
        pass
    else:
        approx_arguments(nn)
    return nn


def load_input(path: Path, graph: Graph, index: int | None) -> list[np.ndarray]:
    """The model input of `--input` (an .npy, or an .npz's 'x' or only array); `index`:
    which input of a batch (None: not given, the first)."""
    import numpy as np

    from mcusim.nn.approx.data import NPZ_ERRORS
    from mcusim.nn.sim_api import InputError, MissingInputError, UsageError

    if len(graph.inputs) != 1:
        raise UsageError(f"--input {path}: the model has {len(graph.inputs)} inputs; --input "
                         "gives one (use the Python API, run_model(inputs=[...]))")
    t = graph.tensors[graph.inputs[0]]
    try:
        x = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise MissingInputError(f"--input {path}: no such file") from None
    except IsADirectoryError:
        raise MissingInputError(f"--input {path}: is a directory; give an .npy file") from None
    except NPZ_ERRORS:
        raise InputError(f"--input {path}: numpy cannot read it as an .npy or .npz array; "
                         f"expected the model input {t.shape} (int8, or float to be "
                         "quantised), optionally with a leading batch axis") from None
    if isinstance(x, np.lib.npyio.NpzFile):  # an .npz: its 'x' array, or its only one
        with x:
            names = list(x.files)
            if "x" not in names and len(names) != 1:
                raise InputError(f"--input {path}: an .npz with arrays {names}; expected one "
                                 "array, or one named 'x'")
            try:
                x = x["x" if "x" in names else names[0]]
            except NPZ_ERRORS:
                raise InputError(f"--input {path}: its array cannot be read (corrupt, or "
                                 "object data)") from None
    if x.dtype.kind not in "iuf":
        raise InputError(f"--input {path}: a {x.dtype} array; expected integers (int8 "
                         "values) or floats (quantised with the input's scale)")
    batched = x.size != t.size or x.ndim == len(t.shape) + 1
    if x.size != t.size and (x.ndim == 0 or x.size != x.shape[0] * t.size):
        raise InputError(f"--input {path}: shape {x.shape} does not fit the model input "
                         f"{t.shape}")
    if batched and x.shape[0] == 0:  # (the size check above passes any empty array)
        raise InputError(f"--input {path}: holds no inputs (shape {x.shape}); expected the "
                         f"model input {t.shape}, optionally with a leading batch axis")
    if index is not None and not batched:
        raise UsageError(f"--input-index {index}: {path} holds one input (shape {x.shape}, no "
                         "batch axis); --input-index picks one of a batch (N, ...)")
    if batched:
        if not 0 <= (index or 0) < x.shape[0]:
            raise UsageError(f"--input-index {index}: {path} holds {x.shape[0]} inputs")
        x = x[index or 0]
    x = x.reshape(t.shape)
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise InputError(f"--input {path}: the input holds NaN or infinite values")
    if t.dtype == "int8" and x.dtype.kind == "f":
        q = np.float32(x) / np.float32(t.scale)
        x = np.clip(np.sign(q) * np.floor(np.abs(q) + 0.5) + t.zero_point, -128, 127)
    elif t.dtype == "int8" and x.dtype.kind in "iu" and (x.min() < -128 or x.max() > 127):
        raise InputError(f"--input {path}: values outside int8 [{x.min()}, {x.max()}]")
    return [x.astype(t.dtype)]


def _code_in_ram(args: argparse.Namespace) -> bool | None:
    return {"auto": None, "ram": True, "flash": False}[args.kernels_in]


def _outputs(args: argparse.Namespace) -> tuple[OutputPlan, Output | None, Output | None]:
    """--json and --plot under the rule of every mcusim output (base/outputs.py), checked
    before any work: never an input of the command (the model, --input, a --schedule file, an
    --approx config, --calib), whatever --force says, never one file for both, an existing
    file replaced only if it is mcusim's earlier output of that kind; `--json -` is stdout."""
    from mcusim.base.outputs import OutputPlan

    schedule_file = Path(args.schedule)
    inputs = [args.model, args.input, schedule_file if schedule_file.is_file() else None,
              getattr(args, "approx", None), getattr(args, "calib", None)]
    plan = OutputPlan(inputs, args.force)
    json_out = plan.add("--json", args.json, "nn")
    plot_out = plan.add("--plot", getattr(args, "plot", None), "png", stdout_ok=False)
    return plan, json_out, plot_out


def _check_combination(args: argparse.Namespace) -> None:
    """Options that would be silently ignored together are a bad command line: --approx makes
    its own schedule; --sweep and --plot compare Pex schedules (--sweep: every slice count)."""
    from mcusim.nn.sim_api import UsageError

    approx = getattr(args, "approx", None)
    sweep, plot = getattr(args, "sweep", False), getattr(args, "plot", None)
    if getattr(args, "calib", None) is not None and approx is None:
        raise UsageError(f"--calib {args.calib}: calibration inputs are for --approx CONFIG "
                         "(the significance of its skipped MACs); give --approx or drop --calib")
    if approx is not None and args.schedule != "layers":
        raise UsageError(f"--approx {approx} makes its own schedule (each layer's kernel, "
                         f"exact or approximate); it cannot be combined with --schedule "
                         f"{args.schedule}")
    if approx is not None and (sweep or plot is not None):
        raise UsageError(f"--approx {approx} with {'--sweep' if sweep else '--plot'}: the "
                         "sweep and the plot compare Pex schedules with layer by layer, not "
                         "approximate kernels (mcusim dse plots those)")
    if sweep and args.schedule not in ("layers", "pex"):
        raise UsageError(f"--sweep runs pex:N for every slice count; --schedule "
                         f"{args.schedule} would not be used (give --schedule pex or none)")
    if plot is not None and not sweep and not (args.schedule == "layers"
                                                or args.schedule.startswith("pex")
                                                or Path(args.schedule).is_file()):
        raise UsageError(f"--plot compares a Pex schedule with layer by layer; --schedule "
                         f"{args.schedule} is not one (give pex or pex:N, or none for the "
                         "automatic Pex)")


def main(args: argparse.Namespace, err: Console) -> int:
    from rich.markup import escape

    from mcusim.nn.progress import StageProgress
    from mcusim.nn.report import print_result, report_console
    from mcusim.nn.run import prepare, run_model
    from mcusim.nn.schedules import make_schedule
    from mcusim.nn.sim_api import UsageError
    from mcusim.nn.tflite_import import load_model

    if args.input is None and args.input_index is not None:
        raise UsageError(f"--input-index {args.input_index} needs --input X.npy (a batch of "
                         "inputs to pick from)")
    _check_combination(args)
    plan, json_out, _ = _outputs(args)
    # With `--json -` the JSON is stdout, so the report goes to stderr (as `mcusim run` does).
    report_to_stderr = json_out is not None and json_out.to_stdout

    def write_json(text: str) -> None:
        plan.write_text(json_out, lambda f: f.write(text))

    graph = load_model(args.model)
    inputs = load_input(args.input, graph, args.input_index) if args.input else None
    schedule = make_schedule(args.schedule, graph, args.board)
    approx = getattr(args, "approx", None) is not None
    if approx:
        from mcusim.nn.approx.nn_option import schedule_for

        schedule = schedule_for(args, graph, args.board, warn=err.print)
    if getattr(args, "sweep", False) or getattr(args, "plot", None):
        from mcusim.nn.pex import cli as pex_cli

        # Lines, not a spinner: the comparison and sweep print to stdout between the runs.
        say = StageProgress(err, live=False)

        def run_fn(s: Schedule):
            return run_model(graph, args.board, inputs=inputs, schedule=s, clock=args.clock,
                             live_bytes=args.live, progress=say)

        return pex_cli.run(args, graph, args.board, run_fn, write_json, report_to_stderr)
    with StageProgress(err) as say:
        if args.emit is not None:
            from mcusim.nn.codegen import generate
            from mcusim.nn.emit import emit
            from mcusim.nn.reference import default_inputs

            p = prepare(graph, args.board, schedule, args.clock, _code_in_ram(args))
            written = emit(args.emit, graph, generate(p.graph, p.schedule, p.plan),
                           p.board.name, inputs or default_inputs(graph), args.force, p.cflags)
            say.print(f"mcusim nn: wrote {', '.join(str(w) for w in written)}")
        result = run_model(graph, args.board, inputs=inputs, schedule=schedule,
                           check_layers=args.check_layers, live_bytes=args.live,
                           clock=args.clock, code_in_ram=_code_in_ram(args), progress=say)
    print_result(report_console(report_to_stderr), result, by_operator=args.by_op)
    if json_out is not None:
        write_json(result.to_json_text())
    if not result.matches and approx:
        err.print("mcusim nn: note: with --approx the outputs differ from the exact reference by "
                  f"design ({escape(result.reference)})", soft_wrap=True)
    elif not result.matches:
        hint = "" if args.check_layers else (" (--check-layers names the first layer that "
                                             "differs)")
        err.print(f"mcusim nn: outputs differ from the reference: {escape(result.reference)}"
                  f"{hint}", soft_wrap=True)
        return 1
    return 0

"""`mcusim view`: draw a .mtrace file as a PNG and an HTML page, and print its summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcusim.base.errors import InputError, MissingInputError, UsageError
from mcusim.base.outputs import OutputPlan, output_path

if TYPE_CHECKING:
    from rich.console import Console

    from mcusim.traces.mtrace import Trace


def register(sub: Any) -> None:
    view = sub.add_parser("view", help="draw a .mtrace file as a PNG and an HTML page",
                          description="Bytes in use over simulated time (static, heap, stack, "
                          "with the live-bytes curve and region markers) and an address-by-time "
                          "heatmap of reads and writes per region; prints a summary.")
    view.add_argument("trace", type=Path)
    view.add_argument("-o", "--output", type=output_path, metavar="PNG",
                      help="picture to write (default: the trace's name with .png)")
    view.add_argument("--html", type=output_path, help="page to write (default: .html beside it)")
    view.add_argument("--force", action="store_true",
                      help="overwrite existing files that are not earlier pictures of mcusim")
    view.set_defaults(command_main=main)


def open_trace(path: Path) -> Trace:
    from mcusim.traces.mtrace import Trace, TraceFormatError

    if not path.exists():
        raise MissingInputError(f"trace file {path} does not exist")
    if path.is_dir():
        raise MissingInputError(f"trace file {path} is a directory, not an .mtrace file")
    try:
        return Trace.open(path)
    except TraceFormatError as e:
        # The format's messages name the file already: say it once.
        text = str(e)
        raise InputError(text if str(path) in text else f"{path}: {text}") from None


def main(args: argparse.Namespace, err: Console) -> int:
    from mcusim.traces.liveness import live_bytes
    from mcusim.traces.view import render_html, render_png, summary_text

    png = args.output or args.trace.with_suffix(".png")
    html = args.html or args.trace.with_suffix(".html")
    if png.suffix.lower() != ".png":
        raise UsageError(f"-o {png}: the picture is written as PNG; give a name ending in .png")
    plan = OutputPlan([args.trace], args.force)
    plan.add("-o", png, "png", stdout_ok=False)
    plan.add("--html", html, "html", stdout_ok=False)
    trace = open_trace(args.trace)
    for key in ("elf", "board"):  # a name that is not UTF-8 is drawn with U+FFFD in its place
        if isinstance(trace.meta.get(key), str):
            trace.meta[key] = trace.meta[key].encode("utf-8", "surrogateescape").decode(
                "utf-8", "replace")
    live = live_bytes(trace)
    render_png(trace, png, live=live)
    render_html(trace, html, live=live)
    sys.stdout.write(summary_text(trace, live) + "\n")
    sys.stdout.write(f"wrote {png} and {html}\n")
    return 0

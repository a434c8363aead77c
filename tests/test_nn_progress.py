"""Progress of `mcusim nn` on stderr: stages (compiling, running step by step, checking), never
on stdout and never changing a result."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from mcusim.nn import build as nn_build
from mcusim.nn.codegen import generate
from mcusim.nn.progress import StageProgress
from mcusim.nn.run import prepare, run_model
from mcusim.sim.cli import main

DIGITS = Path(__file__).resolve().parents[1] / "nn" / "models" / "digits_cnn_int8.tflite"


@pytest.fixture(scope="module", autouse=True)
def nn_cache(tmp_path_factory):
    old = os.environ.get("MCUSIM_CACHE_DIR")
    os.environ["MCUSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("nn-cache"))
    yield
    if old is None:
        del os.environ["MCUSIM_CACHE_DIR"]
    else:
        os.environ["MCUSIM_CACHE_DIR"] = old


def test_a_fresh_build_says_what_it_compiles(tmp_path, monkeypatch):
    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(nn_build, "_run", lambda cmd, board: None)  # no compiler needed
    p = prepare(DIGITS, "nucleo-f446re")
    model = generate(p.graph, p.schedule, p.plan)
    said: list[str] = []
    assert not nn_build.build(model, "nucleo-f446re", p.cflags, said.append).cached
    assert said == [f"compiling the kernel library for nucleo-f446re "
                    f"({len(nn_build.kernel_sources())} sources)",
                    "compiling the model firmware for nucleo-f446re (arm-none-eabi-gcc)"]


def test_nn_shows_its_stages_on_stderr_and_not_stdout(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["nn", str(DIGITS), "--json", str(out)]) == 0
    cap = capsys.readouterr()
    err = cap.err
    for stage in ("mcusim nn: building digits_cnn_int8 for nucleo-f446re",
                  "mcusim nn: compiling the kernel library for nucleo-f446re",
                  "mcusim nn: compiling the model firmware",
                  "mcusim nn: running digits_cnn_int8 on nucleo-f446re",
                  "mcusim nn: computing the reference outputs"):
        assert stage in err
    assert "mcusim nn:" not in cap.out and "latency" in cap.out
    # Progress changes nothing: the same run without it gives the same result, byte for byte.
    steps: list[str] = []
    quiet = run_model(DIGITS, "nucleo-f446re")
    told = run_model(DIGITS, "nucleo-f446re", progress=steps.append)
    assert told.to_json_text() == quiet.to_json_text() == out.read_text()
    assert [s.split(": ")[-1] for s in steps if ": step " in s] == \
        [f"step {i + 1}/8 {s.name}" for i, s in enumerate(told.steps)]
    assert not any("compiling" in s for s in steps)  # a cached build compiles nothing


def test_on_a_terminal_a_transient_spinner_on_the_error_console(capsys):
    screen = io.StringIO()
    err = Console(file=screen, force_terminal=True, width=100)
    with StageProgress(err) as say:
        say("running [bold]m[/] on b")  # names print as they are, no markup
        say("running [bold]m[/] on b: step 1/2 L00")
        say.print("mcusim nn: wrote x")
    assert "running [bold]m[/] on b" in screen.getvalue()
    assert "wrote x" in screen.getvalue()
    assert capsys.readouterr().out == ""


def test_in_lines_one_line_per_stage(monkeypatch):
    screen = io.StringIO()
    err = Console(file=screen, force_terminal=False, width=200)
    clock = iter([0.0, 0.1, 0.2, 6.0, 6.1])
    monkeypatch.setattr("mcusim.nn.progress.time.monotonic", lambda: next(clock))
    say = StageProgress(err)
    for msg in ("running m", "running m: step 1/9 a", "running m: step 2/9 b",
                "running m: step 3/9 c", "computing the reference outputs"):
        say(msg)
    assert screen.getvalue().splitlines() == [
        "mcusim nn: running m ...", "mcusim nn: running m: step 3/9 c ...",
        "mcusim nn: computing the reference outputs ..."]


def test_paths_print_as_they_are(tmp_path, capsys):
    d = tmp_path / "[bold]fw:smile:"
    assert main(["nn", str(DIGITS), "--emit", str(d)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"mcusim nn: wrote {d / 'model.c'}" in err

"""Start-up (issue 15): `mcusim --help` and every `mcusim CMD --help` import nothing heavy, a
plain run imports only what it runs on, and making the imports lazy lost no option. The times
themselves are measured by bench/startup.py, not here. Each check runs in a fresh interpreter,
since this test process has long imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from mcusim.sim.accounting import native_lib
from mcusim.sim.core.elf_symbols import iter_symbols

COMMANDS = ["run", "trace", "view", "boards", "validate", "nn", "dse", "check", "cache"]
# Third-party packages that --help must not load (numpy, capstone, unicorn, rich,
# pyelftools, the TFLite reader, matplotlib), and what gives their version (slow to import).
HEAVY = ["numpy", "capstone", "unicorn", "rich", "elftools", "tflite", "matplotlib",
         "importlib.metadata"]


def _python(code: str, *args: str, status: int = 0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == status, done.stderr
    return done


HELP_IMPORTS = """
import contextlib, io, json, sys
from mcusim.sim.cli import main
heavy = json.loads(sys.argv[1])
loaded = {}
for words in [["--help"], *[[c, "--help"] for c in json.loads(sys.argv[2])]]:
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        main(words)
    assert "usage:" in out.getvalue(), words
    loaded[" ".join(words)] = sorted(m for m in heavy if m in sys.modules)
print(json.dumps(loaded))
"""


def test_help_of_mcusim_and_of_every_command_imports_nothing_heavy():
    loaded = json.loads(_python(HELP_IMPORTS, json.dumps(HEAVY), json.dumps(COMMANDS)).stdout)
    assert list(loaded) == ["--help", *[f"{c} --help" for c in COMMANDS]]
    assert loaded == {words: [] for words in loaded}


# Every option of every command: its flags, destination, default, choices, help and metavar.
OPTIONS = """
import argparse, json, sys
def full_way():
    # What the commands run on, imported before the parser is built: declaring an option
    # must not depend on whether its implementation module has been imported.
    import numpy, rich.console  # noqa: F401
    import mcusim.sim, mcusim.sim.simulation, mcusim.sim.cli.report  # noqa: F401
    import mcusim.sim.check.views, mcusim.nn.run, mcusim.nn.pex.cli  # noqa: F401
    import mcusim.nn.approx.cli, mcusim.nn.approx.nn_option  # noqa: F401
    mcusim.sim.Simulation
if sys.argv[1] == "full":
    full_way()
from mcusim.sim.cli import build_parser
parser = build_parser()
sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
def options(p):
    return [[a.option_strings, a.dest, repr(a.default), repr(a.choices), a.help, a.metavar,
             repr(a.nargs), a.required] for a in p._actions]
print(json.dumps({"": options(parser), "help": parser.format_help(),
                  **{name: options(p) for name, p in sub.choices.items()},
                  **{name + " help": p.format_help() for name, p in sub.choices.items()}}))
"""


def test_the_lazy_parser_has_every_option_of_the_parser_built_the_full_way():
    lazy = json.loads(_python(OPTIONS, "lazy").stdout)
    full = json.loads(_python(OPTIONS, "full").stdout)
    assert [k for k in lazy if " " not in k and k != "help"] == ["", *COMMANDS]
    assert lazy == full

    def flags(command: str) -> set[str]:
        return {f for option in lazy[command] for f in option[0]}

    # The options declared apart from their implementations are all there.
    assert {"--timing", "--profile", "--gdb", "--json", "--max-ram"} <= flags("run")
    assert {"--sweep", "--plot", "--approx", "--calib", "--schedule"} <= flags("nn")
    assert {"--levels", "--data", "--scheduler"} <= flags("dse")
    assert {"--version"} <= flags("")


def test_declared_choices_and_defaults_agree_with_their_implementations():
    from mcusim.isa.timing import TIMING_MODELS
    from mcusim.nn.approx.dse import DEFAULT_LEVELS, DseOptions
    from mcusim.sim.cli import build_parser

    run = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    timing = next(a for a in run["run"]._actions if a.dest == "timing")
    assert tuple(timing.choices) == TIMING_MODELS
    levels = next(a for a in run["dse"]._actions if a.dest == "levels")
    assert [float(v) for v in levels.default.split(",")] == DEFAULT_LEVELS == DseOptions().levels


def test_version_is_read_when_asked():
    out = _python("import contextlib, sys\nfrom mcusim.sim.cli import main\n"
                  "with contextlib.suppress(SystemExit): main(['--version'])").stdout
    from importlib.metadata import version

    assert out.strip() == f"mcusim {version('mcusim')}"


def test_the_public_names_are_imported_on_first_use():
    out = _python("""
import json, sys
import mcusim
before = [m for m in ("mcusim.sim.core.engine", "unicorn", "numpy") if m in sys.modules]
from mcusim import Firmware, make_simulation, Simulation, ExitCode
from mcusim.sim.core.engine import Simulation as engine_simulation
from mcusim.sim.core.firmware import Firmware as firmware
from mcusim.sim.simulation import make_simulation as composed
import mcusim.sim
same = [Simulation is engine_simulation, Firmware is firmware, make_simulation is composed,
        all(getattr(mcusim, n) is getattr(mcusim.sim, n) for n in mcusim.sim.__all__),
        set(mcusim.__all__) <= set(dir(mcusim))]
try:
    mcusim.no_such_name
except AttributeError as e:
    missing = str(e)
print(json.dumps([before, same, missing]))
""").stdout
    before, same, missing = json.loads(out)
    assert before == []
    assert same == [True] * 5
    assert missing == "module 'mcusim' has no attribute 'no_such_name'"


PLAIN_RUN = """
import json, sys
from mcusim.sim.cli import main
code = main(["run", sys.argv[1], "--board", "nucleo-f446re"])
with open(sys.argv[2], "w") as f:
    json.dump(sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "matplotlib", "tflite")
                     or m.startswith(("mcusim.nn.", "mcusim.sim.check.", "mcusim.traces.mtrace",
                                      "mcusim.sim.accounting.batched",
                                      "mcusim.sim.accounting.native"))), f)
sys.exit(code)
"""
# What the parser needs of the model path: the declarations of `mcusim nn` and `mcusim dse`.
NN_DECLARATIONS = ["mcusim.nn.approx", "mcusim.nn.approx.options", "mcusim.nn.cli",
                   "mcusim.nn.pex", "mcusim.nn.pex.options"]


@pytest.mark.parametrize("native", ["1", "0"])
def test_a_plain_run_imports_only_what_it_runs_on(kernels: Path, tmp_path: Path, native: str):
    if native == "1" and native_lib.load_library() is None:
        pytest.skip(f"the native hot path is not available: {native_lib.load_error()}")
    elf, loaded = kernels / "nucleo-f446re" / "hello.elf", tmp_path / "modules.json"
    done = _python(PLAIN_RUN, str(elf), str(loaded), status=3,  # hello.elf exits 3
                   env={**os.environ, "MCUSIM_NATIVE": native})
    assert "hello: int 42" in done.stdout and "instructions" in done.stderr
    modules = set(json.loads(loaded.read_text()))
    # The path the run took, and numpy only on the pure-Python one (batched accounting).
    batched = {"mcusim.sim.accounting.batched", "numpy"}
    assert ("mcusim.sim.accounting.native" in modules) == (native == "1")
    assert modules & batched == (set() if native == "1" else batched)
    # No model path (but its option declarations), check, trace file or plotting.
    others = {m for m in modules - batched - set(NN_DECLARATIONS)
              if not m.startswith(("numpy.", "mcusim.sim.accounting.native"))}
    assert others == set()


def _fields(symbol) -> tuple:
    e = symbol.entry
    return (symbol.name, e["st_name"], e["st_value"], e["st_size"], e["st_info"]["bind"],
            e["st_info"]["type"], e["st_other"]["local"], e["st_other"]["visibility"],
            e["st_shndx"])


@pytest.mark.parametrize("program", ["hello", "calltree", "fc"])
@pytest.mark.parametrize("board", ["nucleo-f446re", "nucleo-g071rb"])
def test_the_fast_symbol_reader_gives_what_pyelftools_gives(kernels: Path, program: str,
                                                            board: str):
    with open(kernels / board / f"{program}.elf", "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        expected = [_fields(s) for s in symtab.iter_symbols()]
        fast = [_fields(s) for s in iter_symbols(symtab)]
        named = [_fields(s) for s in iter_symbols(symtab, named=True)]
    assert len(expected) > 50
    assert {f[5] for f in expected} >= {"STT_FUNC", "STT_OBJECT", "STT_NOTYPE"}
    assert fast == expected
    # named=True: the same entries but the nameless and the mapping symbols ($t, $d, ...)
    assert named == [f for f in expected if f[0] and not f[0].startswith("$")]
    assert any(f[0].startswith("$") for f in expected) and len(named) < len(expected)

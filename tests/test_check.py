"""`mcusim check`: manifest, baseline comparison, reports (Markdown, JUnit), --update."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mcusim.base.errors import InputError
from mcusim.sim.check.manifest import Tolerance, load_manifest
from mcusim.sim.cli import main

from .conftest import ROOT

MANIFEST = ROOT / "examples" / "ci" / "kernels.toml"
BASELINE = ROOT / "examples" / "ci" / "kernels.baseline.json"
SMALL = ("calltree", "uart_hello", "fc@m7")  # quick entries of the bundled manifest


def small_manifest(tmp_path: Path, extra: str = "", **entry_overrides: str) -> Path:
    """A manifest of three bundled entries (ELF paths absolute) and a copy of their baseline."""
    bundled = {e.name: e for e in load_manifest(MANIFEST).entries}
    lines = ['baseline = "base.json"', "[defaults]", 'board = "nucleo-f446re"',
             'tolerance = { cycles = "0.5%" }', extra]
    for name in SMALL:
        e = bundled[name]
        lines += ["[[entry]]", f'name = "{name}"', f'elf = "{e.elf.resolve()}"',
                  f'board = "{e.board}"']
        if e.regions:
            lines.append("regions = [" + ", ".join(f'"{a}:{b}"' for a, b in e.regions) + "]")
        if name in entry_overrides:
            lines.append(entry_overrides[name])
    path = tmp_path / "m.toml"
    path.write_text("\n".join(lines) + "\n")
    base = json.loads(BASELINE.read_text())
    base["entries"] = {k: v for k, v in base["entries"].items() if k in SMALL}
    (tmp_path / "base.json").write_text(json.dumps(base, indent=2) + "\n")
    return path


def junit(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def test_small_manifest_matches_committed_baseline(kernels, tmp_path, capsys):
    m = small_manifest(tmp_path)
    assert main(["check", str(m), "--junit", str(tmp_path / "r.xml"), "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 entries: 3 passed" in out
    root = junit(tmp_path / "r.xml")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "0", "0")
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == list(SMALL)  # manifest order, whatever order the pool finished in
    assert root.find(".//testcase[@name='calltree']/properties/property[@name='cycles']") \
        .get("value") == str(json.loads(BASELINE.read_text())["entries"]["calltree"]
                             ["metrics"]["cycles"])


def test_planted_regression_fails_with_junit_failure(kernels, tmp_path, capsys):
    m = small_manifest(tmp_path)
    base = json.loads((tmp_path / "base.json").read_text())
    recorded = base["entries"]["calltree"]["metrics"]
    recorded["cycles"] = int(recorded["cycles"] * 0.9)  # now "grew" by 11%: beyond 0.5%
    recorded["stack"] -= 8  # the default tolerance for stack is exact
    (tmp_path / "base.json").write_text(json.dumps(base))
    rc = main(["check", str(m), "--junit", str(tmp_path / "r.xml"), "--markdown"])
    captured = capsys.readouterr()
    assert rc == 1
    assert "calltree (regression)" in captured.err
    md = captured.out
    assert md.startswith("### mcusim check failed: 3 entries: 1 regression, 2 passed")
    assert "| calltree | cycles |" in md and "**REGRESSION**" in md
    root = junit(tmp_path / "r.xml")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "0")
    failure = root.find(".//testcase[@name='calltree']/failure")
    assert failure is not None and failure.get("type") == "regression"
    assert f"cycles {recorded['cycles']:,} -> " in failure.get("message")
    assert "tolerance 0.5%" in failure.get("message")
    assert "stack " in failure.get("message") and "tolerance 0" in failure.get("message")
    assert root.find(".//testcase[@name='uart_hello']/failure") is None


def test_change_within_tolerance_passes_and_improvement_is_reported(kernels, tmp_path, capsys):
    m = small_manifest(tmp_path)
    base = json.loads((tmp_path / "base.json").read_text())
    base["entries"]["calltree"]["metrics"]["cycles"] -= 10  # +0.08%: within 0.5%
    base["entries"]["uart_hello"]["metrics"]["instructions"] += 100  # fewer now: improved
    (tmp_path / "base.json").write_text(json.dumps(base))
    assert main(["check", str(m)]) == 0
    out = capsys.readouterr().out
    assert "1 improved" in out and "1 changed" in out


def test_wrong_exit_code_and_output_fail(kernels, tmp_path, capsys):
    m = small_manifest(tmp_path, uart_hello='exit_code = 1', calltree='stdout = "nothing\\n"')
    assert main(["check", str(m), "--junit", str(tmp_path / "r.xml")]) == 1
    out = capsys.readouterr().out
    assert "exit code 0, expected 1" in out
    assert "stdout line 1 is 'calltree:" in out
    root = junit(tmp_path / "r.xml")
    assert root.find(".//testcase[@name='uart_hello']/failure").get("type") == "failed"
    # --update records only entries that ran as expected: a broken run is no baseline
    base = json.loads((tmp_path / "base.json").read_text())
    base["entries"]["uart_hello"]["metrics"]["cycles"] = 1
    base["entries"]["fc@m7"]["metrics"]["cycles"] = 1
    (tmp_path / "base.json").write_text(json.dumps(base))
    assert main(["check", str(m), "--update"]) == 1
    after = json.loads((tmp_path / "base.json").read_text())["entries"]
    assert after["uart_hello"]["metrics"]["cycles"] == 1
    assert after["fc@m7"]["metrics"]["cycles"] > 1


def test_update_writes_baseline_then_passes(kernels, tmp_path, capsys):
    m = small_manifest(tmp_path)
    (tmp_path / "base.json").unlink()
    assert main(["check", str(m)]) == 66  # no baseline yet
    assert main(["check", str(m), "--update"]) == 0
    written = json.loads((tmp_path / "base.json").read_text())
    committed = json.loads(BASELINE.read_text())["entries"]
    for name in SMALL:
        assert written["entries"][name]["metrics"] == committed[name]["metrics"]
    assert main(["check", str(m)]) == 0
    # an entry added to the manifest without a baseline fails the gate until --update
    text = m.read_text().replace('name = "fc@m7"', 'name = "fc-again"')
    m.write_text(text)
    assert main(["check", str(m)]) == 1
    assert "fc-again (new)" in capsys.readouterr().err


def test_baseline_of_another_board_is_no_reference(kernels, tmp_path, capsys):
    m = small_manifest(tmp_path)
    base = json.loads((tmp_path / "base.json").read_text())
    base["entries"]["uart_hello"]["board"] = "nucleo-g071rb"
    (tmp_path / "base.json").write_text(json.dumps(base))
    assert main(["check", str(m), "--junit", str(tmp_path / "r.xml")]) == 1
    assert "the baseline was recorded on nucleo-g071rb" in capsys.readouterr().out
    failure = junit(tmp_path / "r.xml").find(".//testcase[@name='uart_hello']/failure")
    assert failure.get("type") == "new" and "nucleo-g071rb" in failure.get("message")


def test_outputs_are_deterministic(kernels, tmp_path, capsys):
    m = small_manifest(tmp_path)
    texts = []
    for jobs in ("1", "3"):
        out = tmp_path / f"r{jobs}.xml"
        assert main(["check", str(m), "--junit", str(out), "--markdown", "--all",
                     "--jobs", jobs]) == 0
        texts.append((out.read_bytes(), capsys.readouterr().out))
    assert texts[0] == texts[1]


def test_outputs_never_replace_user_files_or_inputs(kernels, tmp_path, capsys):
    m = small_manifest(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    assert main(["check", str(m), "--junit", str(notes)]) == 73
    assert notes.read_text() == "my notes\n"
    assert main(["check", str(m), "--junit", str(m)]) == 73  # the manifest itself
    assert main(["check", str(m), "--junit", str(tmp_path / "base.json"), "--force"]) == 73
    assert main(["check", str(m), "--update", "--baseline", str(notes)]) == 73
    assert notes.read_text() == "my notes\n"
    assert main(["check", str(m), "--junit", str(notes), "--force"]) == 0
    assert notes.read_text().startswith("<?xml")
    assert "not overwriting it (use --force" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "code", "message"), [
    ('[[entry]]\nname = "a"\nelf = "x.elf"\nboard = "nucleo-f446re"\ncycles = 3\n', 65,
     "unknown field 'entry[0].cycles'"),
    ('[[entry]]\nname = "a"\nmodel = "kws.tflite"\nboard = "nucleo-f446re"\n', 65,
     "model entries"),
    ('[[entry]]\nname = "a"\nelf = "missing.elf"\nboard = "nucleo-f446re"\n', 66,
     "no such ELF"),
    ('[[entry]]\nname = "a"\nelf = "x.elf"\nboard = "b"\ntolerance = { cycles = "-1%" }\n',
     65, "entry[0].tolerance.cycles"),
    ('baseline = "b.json"\n', 65, "no entries"),
])
def test_bad_manifest_is_a_clear_error(tmp_path, capsys, text, code, message):
    m = tmp_path / "m.toml"
    m.write_text(text)
    assert main(["check", str(m), "--baseline", str(tmp_path / "b.json")]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_tolerance_parsing():
    assert Tolerance.parse("2%").allowed(1000) == 20
    assert Tolerance.parse(16).allowed(1000) == 16
    assert str(Tolerance.parse("0.5 %")) == "0.5%"
    with pytest.raises(ValueError):
        Tolerance.parse(True)
    with pytest.raises(InputError):
        load_manifest(Path("/nonexistent/m.toml"))

"""The run command's views of one result: summary, profile, JSON; determinism."""

from __future__ import annotations

import json

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main

REQUIRED_KEYS = {"schema", "board", "core", "clock_hz", "exit_code", "instructions", "cycles",
                 "seconds", "timing_model"}


def test_summary_profile_and_json(kernels, tmp_path, capsys):
    out = tmp_path / "r.json"
    elf = kernels / "nucleo-f446re" / "conv3x3.elf"
    rc = main(["run", str(elf), "--board", "nucleo-f446re", "--profile", "--json", str(out)])
    cap = capsys.readouterr()
    assert rc == 0
    assert "conv3x3 checksum" in cap.out  # program output on stdout, summary on stderr
    assert "instructions" in cap.err and "simulated time" in cap.err and "host time" in cap.err
    data = json.loads(out.read_text())
    assert set(data) >= REQUIRED_KEYS
    assert data["schema"] == "mcusim.run/1"
    assert (data["board"], data["core"], data["clock_hz"]) == ("nucleo-f446re", "cortex-m4",
                                                               180_000_000)
    assert data["timing_model"] == "table" and data["cycles"] > data["instructions"]
    assert data["flash"] == [{"region": "flash", "wait_states": 5,
                              "fetch_stall_cycles": data["flash"][0]["fetch_stall_cycles"],
                              "data_stall_cycles": data["flash"][0]["data_stall_cycles"]}]
    assert data["flash"][0]["fetch_stall_cycles"] > 0
    assert abs(data["seconds"] - data["cycles"] / 180e6) < 1e-12
    # The profile's top function is the convolution, and per-function counts add up.
    top = data["functions"][0]
    assert top["name"] == "int8_conv2d"
    assert top["name"] in cap.err
    assert sum(f["instructions"] for f in data["functions"]) == data["instructions"]
    assert sum(f["self_cycles"] for f in data["functions"]) == data["cycles"]
    assert {"name", "calls", "self_cycles", "inclusive_cycles", "instructions"} <= set(top)
    assert top["calls"] == 1 and top["inclusive_cycles"] == top["self_cycles"]
    (region,) = data["regions"]
    assert region["name"] == "conv3x3" and region["count"] == 1
    assert {"name", "count", "cycles", "instructions"} <= set(region)


def test_json_is_byte_identical_across_runs(kernels, tmp_path, capsys):
    elf = kernels / "nucleo-g071rb" / "cnn_chain.elf"
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["run", str(elf), "--board", "nucleo-g071rb", "--json", str(a)]) == 0
    assert main(["run", str(elf), "--board", "nucleo-g071rb", "--json", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()


def test_counts_do_not_depend_on_how_the_elf_path_is_spelled(kernels, tmp_path, capsys,
                                                            monkeypatch):
    # The start-up copies argv: argv[0] is the ELF's name, not the path as typed.
    elf = kernels / "nucleo-f446re" / "calltree.elf"
    spellings = [str(elf.resolve()), str(elf.parent / ".." / elf.parent.name / "." / elf.name)]
    results = []
    for k, path in enumerate(spellings + ["calltree.elf"]):
        if k == len(spellings):
            monkeypatch.chdir(elf.parent)
        out = tmp_path / f"{k}.json"
        assert main(["run", path, "--board", "nucleo-f446re", "--json", str(out)]) == 0
        data = json.loads(out.read_text())
        results.append((data["cycles"], data["instructions"], tuple(data["argv"])))
    assert len(set(results)) == 1 and results[0][2] == ("calltree.elf",)


def test_json_never_replaces_a_file_mcusim_did_not_write(kernels, tmp_path, capsys):
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}\n')
    elf = kernels / "nucleo-f446re" / "fc.elf"
    rc = main(["run", str(elf), "--json", str(notes)])
    err = capsys.readouterr().err
    assert rc == ExitCode.CANT_WRITE and "--force" in err
    assert notes.read_text() == '{"mine": true}\n'
    assert main(["run", str(elf), "--json", str(notes), "--force"]) == 0
    assert json.loads(notes.read_text())["schema"] == "mcusim.run/1"
    # An earlier result is replaced without asking, and keeps its permissions.
    notes.chmod(0o640)
    assert main(["run", str(elf), "--json", str(notes)]) == 0
    assert notes.stat().st_mode & 0o777 == 0o640


def test_clock_override(kernels, tmp_path, capsys):
    elf = kernels / "nucleo-f446re" / "fc.elf"
    runs = {}
    for timing in ("naive", "table"):
        for clock in ("180MHz", "16MHz"):
            out = tmp_path / f"{timing}-{clock}.json"
            assert main(["run", str(elf), "--timing", timing, "--clock", clock,
                         "--json", str(out)]) == 0
            runs[timing, clock] = json.loads(out.read_text())
    fast, slow = runs["naive", "180MHz"], runs["naive", "16MHz"]
    assert slow["clock_hz"] == 16_000_000 and slow["cycles"] == fast["cycles"]
    assert abs(slow["seconds"] / fast["seconds"] - 180 / 16) < 1e-9
    # The cycle model charges flash wait states: 5 at 180 MHz, none at 16 MHz.
    assert runs["table", "16MHz"]["cycles"] < runs["table", "180MHz"]["cycles"]
    assert runs["table", "16MHz"]["flash"] == []

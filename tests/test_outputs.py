"""One rule for every output of every command (base/outputs.py): an existing file is replaced
only when it is an earlier output of the same kind from mcusim, or with --force; never a file
that is an input of the run; never two outputs on one path; `-` is stdout."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main

from .asm import EXIT_OK, build

RUN_OUTPUTS = ["--json", "--callgrind", "--collapsed", "--trace-out"]


@pytest.fixture
def elf(tmp_path):
    return build(tmp_path, EXIT_OK)


@pytest.fixture
def mtrace(tmp_path, elf, capsys):
    path = tmp_path / "run.mtrace"
    assert main(["trace", str(elf), "-o", str(path)]) == 0
    capsys.readouterr()
    return path


@pytest.mark.parametrize("option", RUN_OUTPUTS)
def test_run_never_replaces_a_users_file(tmp_path, elf, capsys, option):
    mine = tmp_path / "mine.txt"
    mine.write_text("main 3\n")  # looks like one line of collapsed stacks, but is the user's
    assert main(["run", str(elf), option, str(mine)]) == ExitCode.CANT_WRITE
    assert "--force" in capsys.readouterr().err
    assert mine.read_text() == "main 3\n"
    assert main(["run", str(elf), option, str(mine), "--force"]) == 0
    assert mine.read_text() != "main 3\n"


@pytest.mark.parametrize("option", ["--json", "--callgrind", "--trace-out"])
def test_an_earlier_output_of_the_same_kind_is_replaced(tmp_path, elf, capsys, option):
    out = tmp_path / "out"
    assert main(["run", str(elf), option, str(out)]) == 0
    assert main(["run", str(elf), option, str(out)]) == 0


@pytest.mark.parametrize("option", RUN_OUTPUTS)
def test_an_input_is_never_an_output(tmp_path, elf, capsys, option):
    before = elf.read_bytes()
    assert main(["run", str(elf), option, str(elf), "--force"]) == ExitCode.CANT_WRITE
    assert "input" in capsys.readouterr().err
    assert elf.read_bytes() == before


def test_board_file_is_an_input(tmp_path, elf, capsys):
    from mcusim.memory.board import BOARDS_DIR

    board = tmp_path / "b.toml"
    shutil.copy(BOARDS_DIR / "nucleo-f446re.toml", board)
    text = board.read_text()
    assert main(["run", str(elf), "--board", str(board), "--json", str(board),
                 "--force"]) == ExitCode.CANT_WRITE
    assert board.read_text() == text


def test_two_outputs_on_one_path(tmp_path, elf, capsys):
    out = tmp_path / "x"
    assert main(["run", str(elf), "--json", str(out), "--collapsed",
                 str(tmp_path / "." / "x")]) == ExitCode.USAGE
    assert "same file" in capsys.readouterr().err
    assert not out.exists()


EMPTY_PATH_COMMANDS = [
    *[["run", "ELF", option] for option in RUN_OUTPUTS],
    ["trace", "ELF", "-o"],
    ["view", "x.mtrace", "-o"],
    ["view", "x.mtrace", "--html"],
    ["check", "m.toml", "--junit"],
    ["check", "m.toml", "--baseline"],
    ["nn", "m.tflite", "--json"],
    ["nn", "m.tflite", "--emit"],
    ["nn", "m.tflite", "--plot"],
    ["dse", "m.tflite", "--board", "nucleo-f446re", "--data", "d.npz", "--out"],
]


@pytest.mark.parametrize("argv", EMPTY_PATH_COMMANDS, ids=" ".join)
def test_an_empty_output_path_is_a_usage_error(tmp_path, elf, capsys, monkeypatch, argv):
    """`--json ''` (an unset shell variable) is an empty path, not the current folder."""
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.iterdir())
    assert main([str(elf) if a == "ELF" else a for a in argv] + [""]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"{argv[-1]}: the path is empty" in err.replace("-o/--output", "-o")
    assert "is a directory" not in err
    assert err.count("\n") == 1  # one paragraph
    assert sorted(tmp_path.iterdir()) == before  # nothing written


def test_an_empty_output_path_through_the_api():
    from mcusim.base.errors import UsageError
    from mcusim.base.outputs import OutputPlan

    with pytest.raises(UsageError, match="the path is empty"):
        OutputPlan([], force=False).add("--json", "", "json")


def test_json_dash_is_stdout(tmp_path, elf, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(elf), "--json", "-"]) == 0
    assert not (tmp_path / "-").exists()
    assert json.loads(capsys.readouterr().out)["schema"] == "mcusim.run/1"


def test_trace_output_rule(tmp_path, elf, capsys):
    mine = tmp_path / "mine.npz"
    shutil.make_archive(str(tmp_path / "mine"), "zip", tmp_path, elf.name)
    (tmp_path / "mine.zip").rename(mine)
    data = mine.read_bytes()
    assert main(["trace", str(elf), "-o", str(mine)]) == ExitCode.CANT_WRITE
    assert mine.read_bytes() == data
    assert main(["trace", str(elf), "-o", str(elf), "--force"]) == ExitCode.CANT_WRITE


def test_view_never_replaces_a_users_picture(tmp_path, mtrace, capsys):
    png, html = tmp_path / "mine.png", tmp_path / "mine.html"
    png.write_bytes(b"\x89PNG\r\n\x1a\n my holiday picture")
    html.write_text("<html>my page</html>")
    assert main(["view", str(mtrace), "-o", str(png)]) == ExitCode.CANT_WRITE
    assert main(["view", str(mtrace), "--html", str(html),
                 "-o", str(tmp_path / "p.png")]) == ExitCode.CANT_WRITE
    assert png.read_bytes().endswith(b"holiday picture")
    assert html.read_text() == "<html>my page</html>"
    assert main(["view", str(mtrace), "-o", str(png), "--html", str(html), "--force"]) == 0
    # Its own outputs are replaced on the next view without asking.
    assert main(["view", str(mtrace), "-o", str(png), "--html", str(html)]) == 0
    assert main(["view", str(mtrace), "-o", str(png), "--html", str(mtrace),
                 "--force"]) == ExitCode.CANT_WRITE


def test_view_refuses_a_picture_format_it_does_not_write(tmp_path, mtrace, capsys):
    assert main(["view", str(mtrace), "-o", str(tmp_path / "x.svg")]) == ExitCode.USAGE
    assert ".png" in capsys.readouterr().err
    assert not (tmp_path / "x.svg").exists()


def test_view_into_a_missing_folder(tmp_path, mtrace, capsys):
    rc = main(["view", str(mtrace), "-o", str(tmp_path / "nope" / "x.png")])
    assert rc == ExitCode.CANT_WRITE
    assert "does not exist" in capsys.readouterr().err


META_EDITS = {
    "clock is text": lambda m: m.update(clock_hz="fast"),
    "regions not a list": lambda m: m.update(regions=7),
    "region without base": lambda m: [r.pop("base") for r in m["regions"]],
    "curves wrong": lambda m: m.update(curves={"stack": [[1]], "heap": "x"}),
    "markers wrong": lambda m: m.update(markers=[{"name": 3}]),
    "not a table": lambda m: m.clear() or m.update(x=[]),
}


@pytest.mark.parametrize("damage", ["truncate", "garbage", *META_EDITS])
def test_view_of_a_damaged_trace_is_bad_input(tmp_path, mtrace, capsys, damage):
    import io
    import zipfile

    import numpy as np

    bad = tmp_path / "bad.mtrace"
    if damage == "truncate":
        bad.write_bytes(mtrace.read_bytes()[:200])
    elif damage == "garbage":
        bad.write_bytes(b"PK\x03\x04" + b"\xff" * 300)
    else:  # a hand-edited metadata record
        with zipfile.ZipFile(mtrace) as src, zipfile.ZipFile(bad, "w") as dst:
            for item in src.namelist():
                data = src.read(item)
                if item == "meta.npy":
                    meta = json.loads(str(np.load(io.BytesIO(data))))
                    META_EDITS[damage](meta)
                    buf = io.BytesIO()
                    np.save(buf, np.array(json.dumps(meta)))
                    data = buf.getvalue()
                dst.writestr(item, data)
    rc = main(["view", str(bad)])
    err = capsys.readouterr().err
    assert rc == ExitCode.BAD_INPUT and "internal error" not in err, err


def test_elf_name_that_is_not_utf8(tmp_path, elf, capsys):
    import os

    odd = os.fsencode(str(tmp_path)) + b"/caf\xe9.elf"
    os.rename(elf, odd)
    rc = main(["run", os.fsdecode(odd), "--json", str(tmp_path / "r.json"), "--callgrind",
               str(tmp_path / "cg.out"), "--collapsed", str(tmp_path / "c.txt"),
               "--trace-out", str(tmp_path / "t.json")])
    err = capsys.readouterr().err
    assert rc == 0 and "internal error" not in err, err
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 0
    # The file name's own bytes are written back where a text output names the ELF.
    assert odd in (tmp_path / "cg.out").read_bytes()
    trace = tmp_path / "odd.mtrace"
    assert main(["trace", os.fsdecode(odd), "-o", str(trace)]) == 0
    assert main(["view", str(trace)]) == 0
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize("where", ["proc", "read-only folder"])
def test_an_output_that_cannot_be_written_is_refused_before_the_run(kernels, tmp_path, capsys,
                                                                     where):
    """Found by hand: `mcusim run app.elf --json /proc/x.json` ran the program and only then
    failed (exit 73, 'cannot write: No such file or directory'): a long run was lost."""
    if where == "proc":
        out = Path("/proc/mcusim-test.json")
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder")
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        out = folder / "x.json"
    rc = main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--json", str(out)])
    cap = capsys.readouterr()
    assert rc == ExitCode.CANT_WRITE
    assert f"--json {out}: cannot write in {out.parent}" in cap.err
    assert "hello: int 42" not in cap.out  # nothing ran


MCUSIM = Path(sys.executable).with_name("mcusim")


@pytest.mark.skipif(not MCUSIM.exists(), reason="needs the installed mcusim command")
def test_a_pipe_takes_a_text_output_in_place(kernels, tmp_path):
    """`--json FIFO` (or `--json >(jq .)`) hung for good: the check read the FIFO's head to
    see whether it was mcusim's earlier output."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = subprocess.run([str(MCUSIM), "run", str(kernels / "nucleo-f446re" / "hello.elf"),
                           "--json", str(fifo)], capture_output=True, timeout=60)
    reader.join(10)
    assert proc.returncode in (1, 3)  # hello.elf's own status (3: its data file was found)
    assert json.loads(got[0])["schema"] == "mcusim.run/1"
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the pipe, not a file put in its place


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_written_to_not_replaced(kernels, tmp_path, capsys):
    """As root, `--json /dev/null` replaced the device by a regular file holding the JSON (a
    temporary file renamed over it). Shown on a null device made in tmp_path."""
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    elf = kernels / "nucleo-f446re" / "hello.elf"
    assert main(["run", str(elf), "--json", str(null)]) in (1, 3)  # hello.elf's own status
    assert stat.S_ISCHR(null.stat().st_mode)
    assert main(["trace", str(elf), "-o", str(null)]) == ExitCode.CANT_WRITE  # a zip file
    assert "is a device or a pipe" in capsys.readouterr().err
    assert stat.S_ISCHR(null.stat().st_mode)


@pytest.mark.parametrize("option", ["--json", "--trace-out"])
def test_a_symbolic_link_stays_a_link(tmp_path, elf, capsys, option):
    """Renaming the temporary file onto the output replaced the link itself (and `--json
    /dev/stdout > file` replaced the /dev/stdout link by a regular file, for every process of
    the machine): what the link points to is written."""
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out"
    target.write_text("")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert main(["run", str(elf), option, str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert b'"mcusim' in target.read_bytes()[:200]
    assert main(["trace", str(elf), "-o", str(tmp_path / "t.mtrace")]) == 0
    trace_link = tmp_path / "t-link.mtrace"
    trace_link.symlink_to(tmp_path / "real" / "t.mtrace")
    assert main(["trace", str(elf), "-o", str(trace_link)]) == 0
    assert trace_link.is_symlink() and (tmp_path / "real" / "t.mtrace").stat().st_size > 0


@pytest.mark.skipif(not MCUSIM.exists(), reason="needs the installed mcusim command")
@pytest.mark.parametrize("option", ["--json", "--callgrind"])
def test_an_output_to_the_file_stdout_goes_to(kernels, tmp_path, option):
    """`--json /proc/self/fd/1 > out` (as /dev/stdout, without touching the machine's
    /dev/stdout link): the output is `-`, so the file holds it alone and the program's own
    output goes to stderr, as with `--json -` (so for `--callgrind -`, whose file mixed the
    program's output in)."""
    out = tmp_path / "out"
    for where in ("/proc/self/fd/1", "-"):
        with out.open("wb") as f:
            proc = subprocess.run([str(MCUSIM), "run", str(kernels / "nucleo-f446re" /
                                                           "calltree.elf"), option, where],
                                  stdout=f, stderr=subprocess.PIPE, timeout=60)
        assert proc.returncode == 0, proc.stderr
        text = out.read_text()
        if option == "--json":
            assert json.loads(text)["schema"] == "mcusim.run/1"
        else:
            assert text.startswith("# callgrind format")
        assert b"calltree:" in proc.stderr  # what the program printed


def test_fs_root_must_be_a_directory(tmp_path, elf, capsys):
    """A missing --fs-root and a file given as one are both exit 66 (the README's table);
    a file was 64 before."""
    assert main(["run", str(elf), "--fs-root", str(tmp_path / "none")]) == 66
    assert main(["run", str(elf), "--fs-root", str(elf)]) == 66
    assert "not a directory" in capsys.readouterr().err

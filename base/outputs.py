"""Every file a command writes follows one rule, checked before any work starts:

* `-` means standard output; an empty name is refused as such (`output_path`, the type of
  every output option: `Path("")` would be `.`, the current folder);
* an output must not be an input of the command (the ELF, a board file, the trace being
  viewed), whatever `--force` says, and two outputs must not be the same file;
* its folder must exist, be writable, and it must not be a folder; a command that writes a
  folder of files (`dse --out`, `nn --emit`) makes that folder, but not its parents
  (`make_output_dir`);
* an existing file is replaced only when it is recognisably an earlier output of the same kind
  from mcusim (each format carries a mark: the JSON's schema, callgrind's and the Chrome
  trace's creator, the .mtrace members, the PNG's and the HTML page's generator), or when it
  is empty, or with `--force`. Collapsed stacks have no room for a mark: an existing file
  always needs `--force`;
* files are written to a temporary name beside them and renamed into place, so a failed write
  never leaves half a file where the old one was; an existing device or pipe (/dev/null,
  /dev/stdout, a FIFO) takes a text output as it is, and is never replaced. A symbolic link
  stays a link: what it points to is replaced. A path that is this process's standard output
  when that is a file (`--json /dev/stdout > out.json`) is `-`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, TextIO

from mcusim.base.errors import OutputError, UsageError

STDOUT = "-"
# Text outputs (written by write_text), which a device or a pipe can take as they are.
_IN_PLACE = {"json", "callgrind", "chrome", "collapsed", "junit", "baseline", "nn"}
CREATOR = "mcusim"
# What mcusim writes at the start of each kind of output (see the exporters).
_MARKS: dict[str, Callable[[Path, bytes], bool]] = {
    "json": lambda p, head: b'"schema": "mcusim.run/' in head,
    "callgrind": lambda p, head: head.startswith(b"# callgrind format")
    and b"creator: mcusim" in head,
    "chrome": lambda p, head: head.startswith(b'{"otherData":{"creator":"mcusim"'),
    "collapsed": lambda p, head: False,
    "mtrace": lambda p, head: _is_mtrace(p),
    "png": lambda p, head: head.startswith(b"\x89PNG") and b"mcusim" in head,
    "html": lambda p, head: b'<meta name="generator" content="mcusim' in head,
    "junit": lambda p, head: head.startswith(b"<?xml")
    and b'<testsuites name="mcusim check"' in head,
    "baseline": lambda p, head: b'"schema": "mcusim.check/' in head,
    "nn": lambda p, head: b'"schema": "mcusim.nn/' in head,
    # The files `mcusim dse --out DIR` writes there (nn/approx/cli.py).
    "dse": lambda p, head: b'"mcusim.dse/1"' in head,
    "dse_png": lambda p, head: head.startswith(b"\x89PNG") and b"mcusim dse" in head,
    "dse_csv": lambda p, head: head.startswith(b"config,latency_cycles,"),
    "dse_npz": lambda p, head: _zip_holds(p, "pairing.npy"),
    "dse_cache": lambda p, head: head.startswith(b'{"identity": '),
    "dse_best": lambda p, head: head.lstrip().startswith(b"{") and b'"significance":' in head
    and b'"study":' in head,
}


def output_path(text: str, what: str = "file") -> Path:
    """The argparse type of every output option: an empty name, as an unset shell variable
    gives (`--json "$OUT"`), is a bad command line, not the current folder."""
    if not text:
        raise argparse.ArgumentTypeError(f"the path is empty; give a {what} name")
    return Path(text)


def output_dir(text: str) -> Path:
    """`output_path` of an option that names a folder to write into (`--emit`, `--out`)."""
    return output_path(text, "folder")


def _is_mtrace(path: Path) -> bool:
    return _zip_holds(path, "meta.npy", "cycle.npy")


def _zip_holds(path: Path, *members: str) -> bool:
    """Whether `path` is a zip file (an .mtrace, an .npz) with all of `members`."""
    import zipfile  # only to recognise an existing zip output (start-up)

    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
    return all(m in names for m in members)


def replaceable(kind: str, path: Path) -> bool:
    """Whether the existing file `path` may be replaced by an output of `kind` without
    --force: it is empty, or mcusim's earlier output of that kind (its mark, `_MARKS`)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return not head.strip() or _MARKS[kind](path, head)


class Output(NamedTuple):  # (no dataclass: `mcusim --help` imports this module)
    option: str
    path: Path | None  # None: standard output
    kind: str

    @property
    def to_stdout(self) -> bool:
        return self.path is None

    @property
    def special(self) -> bool:
        """An existing device or pipe (/dev/null, /dev/stdout, a FIFO, `>(jq .)`): written to
        in place, since replacing it by a renamed temporary file would put a regular file
        where /dev/null was."""
        return self.path is not None and _is_special(self.path)


class OutputPlan:
    """The outputs of one command, checked together against the rule and the inputs."""

    def __init__(self, inputs: Sequence[Path | None], force: bool):
        self.inputs = [p for p in inputs if p is not None]
        self.force = force
        self.outputs: list[Output] = []

    def add(self, option: str, path: Path | str | None, kind: str,
            stdout_ok: bool = True) -> Output | None:
        """Checks one output (None: not asked for) and returns it."""
        if path is None:
            return None
        if isinstance(path, str) and not path:
            raise UsageError(f"{option} '': the path is empty; give a file name")
        if str(path) == STDOUT or _is_stdout(Path(path)):
            if not stdout_ok:
                raise UsageError(f"{option} {path}: this output cannot go to standard output")
            if any(o.to_stdout for o in self.outputs):
                raise UsageError(f"{option} {path}: only one output can go to standard output")
            out = Output(option, None, kind)
        else:
            out = Output(option, Path(path), kind)
            self._check(out)
        self.outputs.append(out)
        return out

    def _check(self, out: Output) -> None:
        path = out.path
        assert path is not None
        for other in self.outputs:
            if other.path is not None and _same_file(other.path, path):
                raise UsageError(f"{out.option} {path} and {other.option} {other.path} are the "
                                 "same file; give each output its own name")
        for source in self.inputs:
            if _same_file(source, path):
                raise OutputError(f"{out.option} {path}: that is an input of this command "
                                  f"({source}); mcusim never writes over its inputs")
        if path.is_dir():
            raise OutputError(f"{out.option} {path}: is a directory; give a file name")
        if _is_special(path):
            if out.kind not in _IN_PLACE:
                raise OutputError(f"{out.option} {path}: is a device or a pipe, not a file; "
                                  f"the {out.kind} output is written as a file: give a file "
                                  "name")
            return  # nothing to replace and nothing to read (a FIFO would block the read)
        if not path.parent.is_dir():
            raise OutputError(f"{out.option} {path}: directory {path.parent} does not exist")
        if path.exists() and not self.force and not replaceable(out.kind, path):
            raise OutputError(
                f"{out.option} {path}: the file exists and is not an earlier {out.kind} output "
                "of mcusim; not overwriting it (use --force to replace it)")
        _check_writable(out.option, path)

    def write_text(self, out: Output | None, write: Callable[[TextIO], None]) -> None:
        """Writes a text output (to its file, atomically, or to stdout)."""
        if out is None:
            return
        # surrogateescape: a file name that is not UTF-8 (an ELF's, in the outputs that name
        # it) is written back as its own bytes instead of failing.
        if out.path is not None and out.special:
            try:
                with open(out.path, "w", encoding="utf-8", errors="surrogateescape") as f:
                    write(f)
            except OSError as e:
                raise OutputError(f"{out.option} {out.path}: cannot write: {e.strerror}"
                                  ) from None
            return
        if out.path is None:
            text = io.StringIO()
            write(text)
            sys.stdout.flush()
            sys.stdout.buffer.write(text.getvalue().encode("utf-8", "surrogateescape"))
            sys.stdout.buffer.flush()
            return
        with self.replacing(out) as tmp, open(tmp, "w", encoding="utf-8",
                                              errors="surrogateescape") as f:
            write(f)

    @contextlib.contextmanager
    def replacing(self, out: Output) -> Iterator[Path]:
        """A temporary path beside the output: what is written there replaces it at the end."""
        assert out.path is not None
        target = write_target(out.path)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            yield tmp
            with contextlib.suppress(OSError):  # a replaced file keeps its permissions
                os.chmod(tmp, target.stat().st_mode & 0o7777)
            os.replace(tmp, target)
        except OSError as e:
            raise OutputError(f"{out.option} {out.path}: cannot write: {e.strerror}") from None
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()


def make_output_dir(option: str, path: Path) -> None:
    """The folder a command writes its files into: made when missing, but, as for every
    output, in a folder that exists (a typo in the parent is not silently made)."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path}: exists and is not a directory")
    if not path.exists() and not path.parent.is_dir():
        raise OutputError(f"{option} {path}: directory {path.parent} does not exist")
    try:
        path.mkdir(exist_ok=True)
    except OSError as e:
        raise OutputError(f"{option} {path}: cannot make the folder: {e.strerror}") from None


def _is_special(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def write_target(path: Path) -> Path:
    """Where an output is written: a symbolic link's target (renaming a file onto the link
    would replace the link), else the path itself."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _is_stdout(path: Path) -> bool:
    """Whether `path` is the file this process's standard output was redirected to: written as
    `-` (opening it again would truncate what the program printed, and replacing it would put a
    file where the /dev/stdout link was)."""
    try:
        out = os.fstat(sys.stdout.fileno())
        if not stat.S_ISREG(out.st_mode):  # (a pipe or a terminal takes writes in place)
            return False
        here = path.stat()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    return (here.st_dev, here.st_ino) == (out.st_dev, out.st_ino)


def _check_writable(option: str, path: Path) -> None:
    """The output's temporary file can be made beside it (`replacing`): known before the work,
    not after a long run (a read-only folder or file system, /proc)."""
    path = write_target(path)
    probe = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return  # our own leftover name: writable
    except OSError as e:
        raise OutputError(f"{option} {path}: cannot write in {path.parent}: "
                          f"{e.strerror}") from None
    with contextlib.suppress(OSError):
        probe.unlink()


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except (OSError, ValueError):
        return False

"""Schedule specs as users give them: `layers`, `pex[:N]`, `patch[:B]`, `pex+patch`, or a
schedule JSON file (a saved mcusim.nn/1 result or a bare schedule)."""

from __future__ import annotations

from pathlib import Path

from mcusim.nn.graph import Graph
from mcusim.nn.schedule import Schedule
from mcusim.nn.sim_api import MissingInputError, UsageError


def make_schedule(spec: str, graph: Graph, board: str) -> Schedule | None:
    if spec == "layers":
        return None
    if spec.split(":")[0].split("+")[0] in ("pex", "patch"):  # partial execution (issue 11)
        try:
            from mcusim.nn.pex.schedule import make_schedule as pex_schedule
        except ImportError:
            raise UsageError("--schedule pex: partial execution is not available in this "
                             "build") from None
        return pex_schedule(graph, spec, board)
    path = Path(spec)
    if path.is_dir():
        raise MissingInputError(f"--schedule {spec}: is a directory; give a schedule JSON file")
    if not path.is_file():
        if path.suffix.lower() == ".json" or "/" in spec:  # meant as a file: missing input (66)
            raise MissingInputError(f"--schedule {spec}: no such schedule file")
        raise UsageError(f"--schedule {spec}: expected layers, pex, pex:N, patch, patch:B, "
                         "pex+patch[:B] or a schedule JSON file")
    from mcusim.nn.schedule_file import load_schedule_file

    return load_schedule_file(path, graph)

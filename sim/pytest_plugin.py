"""pytest plugin (entry point `mcusim`, group `pytest11`): run firmware in a test and assert on
its result.

    def test_conv_budget(mcusim):
        result = mcusim.run("kernels_c/build/nucleo-f446re/conv3x3.elf")
        assert result.exit_code == 0
        assert result.region("conv3x3").cycles < 1_100_000
        assert result.memory.peak_ram < 16 * 1024
        assert "cycles" not in result.stdout

Relative ELF paths are taken from pytest's rootdir. The board comes from `--mcusim-board`, the
`mcusim_board` ini option, or the `board=` argument. A problem with the firmware or the options
fails the test with mcusim's one-paragraph message, not a traceback. Importing this module is
cheap: pytest loads it in every session of a project that has mcusim installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mcusim.sim.result import RunResult

DEFAULT_BOARD = "nucleo-f446re"
DEFAULT_MAX_INSTRUCTIONS = 200_000_000  # a test that runs away fails instead of hanging


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcusim", "running firmware on a simulated board")
    group.addoption("--mcusim-board", default=None, metavar="BOARD",
                    help="board of the mcusim fixture's runs (overrides the ini option)")
    parser.addini("mcusim_board", f"board of the mcusim fixture's runs (default "
                  f"{DEFAULT_BOARD})", default=DEFAULT_BOARD)
    parser.addini("mcusim_max_instructions", "instruction limit of each run (default "
                  f"{DEFAULT_MAX_INSTRUCTIONS:,})", default=str(DEFAULT_MAX_INSTRUCTIONS))


class FirmwareRunner:
    """What the `mcusim` fixture gives a test: `run()` a firmware ELF, get its RunResult."""

    def __init__(self, board: str, root: Path, max_instructions: int):
        self.board = board
        self.root = root
        self.max_instructions = max_instructions

    def path(self, elf: str | Path) -> Path:
        p = Path(elf)
        return p if p.is_absolute() else self.root / p

    def run(self, elf: str | Path, *args: str, board: str | None = None,
            clock: str | None = None, regions: Sequence[str] = (), memory: bool = True,
            profile: bool = False, fs_root: str | Path | None = None, stdin: bytes = b"",
            max_instructions: int | None = None, max_cycles: int | None = None) -> RunResult:
        """Run `elf` (program arguments `args`) to its end. `regions` are START:END symbol
        pairs timed like `mcusim run --region`; `memory` gives `result.memory`."""
        from mcusim.base.errors import McusimError
        from mcusim.sim.check.measure import run_firmware

        path = self.path(elf)
        try:
            pairs = []
            for spec in regions:
                start, sep, end = spec.partition(":")
                if not (sep and start and end):
                    raise McusimError(f"region {spec!r}: expected START:END, two symbol names")
                pairs.append((start, end))
            return run_firmware(path, board or self.board, args=args, clock=clock,
                                fs_root=self.path(fs_root or "."), stdin=stdin,
                                max_instructions=max_instructions or self.max_instructions,
                                max_cycles=max_cycles, regions=pairs, memory=memory,
                                profile=profile)
        except McusimError as e:
            message = f"mcusim: {e}"
        # (failed outside the except: inside it pytest also printed mcusim's exception, as
        # "During handling of the above exception, another exception occurred")
        pytest.fail(message, pytrace=False)


@pytest.fixture
def mcusim(request: pytest.FixtureRequest) -> FirmwareRunner:
    """Runs firmware on a simulated board: `mcusim.run("app.elf").cycles`."""
    config = request.config
    board = config.getoption("--mcusim-board") or config.getini("mcusim_board")
    try:
        limit = int(str(config.getini("mcusim_max_instructions")).replace("_", ""))
    except ValueError:
        raise pytest.UsageError("mcusim_max_instructions: expected a whole number") from None
    return FirmwareRunner(board, Path(config.rootpath), limit)

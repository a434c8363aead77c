"""A Simulation is built from parts: observers register their own hooks and add to the result,
make_simulation picks the accounting path, and the common names import from `mcusim`."""

from __future__ import annotations

import io
from importlib.metadata import entry_points

import mcusim
from mcusim import Firmware, ProgramIO, RunOptions, Simulation, load_board, make_simulation
from mcusim.sim.accounting.batched import BatchedSimulation
from mcusim.sim.cli import main
from mcusim.sim.core.observer import Observer


class CycleLedger(Observer):
    """Adds up every cycle the engine books: per block as it is counted, and the charges
    beyond (operand-timed instructions, flash stalls) or taken back (a block left early)."""

    def __init__(self) -> None:
        self.blocks = self.cycles = 0
        self.markers: list[tuple[str, bool]] = []

    def attach(self, sim: Simulation) -> None:
        sim.watch_blocks(self._on_block)
        sim.watch_charges(self._on_charge)
        sim.watch_markers(lambda name, begin: self.markers.append((name, begin)))

    def _on_block(self, block, prev, cycles: int) -> None:  # noqa: ANN001
        self.blocks += 1
        self.cycles += cycles

    def _on_charge(self, cycles: int) -> None:
        self.cycles += cycles

    def finish(self, sim: Simulation, result) -> None:  # noqa: ANN001
        result.warnings.append(f"ledger: {self.blocks} blocks, {self.cycles} cycles")


def _run(elf, observers=()):  # noqa: ANN001
    """A run on the block-by-block path (Simulation itself) with exactly these observers."""
    out = io.BytesIO()
    sim = Simulation(Firmware.open(elf), load_board("nucleo-f446re"),
                     RunOptions(io=ProgramIO(stdout=out)), observers=observers)
    return sim, sim.run(), out.getvalue()


def test_an_observer_sees_every_cycle_and_changes_nothing(kernels):
    elf = kernels / "nucleo-f446re" / "cnn_chain.elf"
    _, plain, plain_out = _run(elf)
    ledger = CycleLedger()
    sim, observed, observed_out = _run(elf, [ledger])
    assert (observed.instructions, observed.cycles, observed.exit_code, observed_out) == (
        plain.instructions, plain.cycles, plain.exit_code, plain_out)
    assert ledger.cycles == observed.cycles
    assert ledger.blocks == sum(b.executions for b in sim.blocks.values())
    assert [n for n, begin in ledger.markers if begin] == [r.name for r in observed.regions]
    assert observed.warnings[-1] == f"ledger: {ledger.blocks} blocks, {observed.cycles} cycles"


def test_make_simulation_picks_the_path_the_options_allow(kernels):
    fw, board = Firmware.open(kernels / "nucleo-f446re" / "fc.elf"), load_board("nucleo-f446re")
    assert type(make_simulation(fw, board, RunOptions(native=False))) is BatchedSimulation
    per_block = make_simulation(fw, board, RunOptions(native=False, batched=False))
    assert type(per_block) is Simulation


def test_the_common_names_and_the_command_are_where_users_look():
    assert mcusim.make_simulation is make_simulation and mcusim.Simulation is Simulation
    assert {"RunResult", "BoardSpec", "ExitCode", "MemoryOptions"} <= set(mcusim.__all__)
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "mcusim"]
    assert script.load() is main

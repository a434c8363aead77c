"""The pure-Python accounting path in batches: the block hook only records which block ran, and
the cycle model is applied to a whole batch at once with numpy.

A Python call per block is the cost of the pure-Python path (the native path makes that call
in C). Here that call does no more than append the block's row number to a list; taken
branches, branch prediction, the flash line buffer and caches, the call tracker and the
per-block totals are then computed for many blocks together, giving the same numbers as the
per-block path in `Simulation._on_block`, which still handles each block's first run.

Whenever anything reads the run's state (`cycles`, `instructions`, the current block: a
semihosting call, a cycle-counter read, a region marker, a fault, the end of the run), the
pending batch is accounted first, so every reader sees exactly what the per-block path would
show. Runs that need a look at every block (memory accounting, instruction or cycle limits)
use the per-block path.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import numpy as np

from mcusim.memory.flash import FlashInterface
from mcusim.sim.accounting.batch_flash import data_stalls, fetch_stalls
from mcusim.sim.accounting.batch_table import BlockTable, Charges, after
from mcusim.sim.core.blocks import Block
from mcusim.sim.core.engine import Simulation
from mcusim.sim.core.exceptions import NO_EVENT
from mcusim.sim.core.observer import Observer
from mcusim.sim.core.options import RunOptions
from mcusim.sim.core.uc_api import BlockHook
from mcusim.sim.observe.profiler import CallTracker
from mcusim.sim.observe.profiling import Profiler

V = TypeVar("V")

# Blocks recorded before they are accounted: 8 bytes each in the list.
BATCH_BLOCKS = 1 << 18


def batch_eligible(options: RunOptions) -> bool:
    """Whether a run with these options can be accounted in batches."""
    return options.memory is None and not options.limits.any


class _Synced(Generic[V]):
    """An attribute of the run's state kept in `storage`: the blocks recorded but not yet
    accounted are accounted before it is read or set."""

    def __init__(self, storage: str):
        self.storage = storage

    def __get__(self, sim: BatchedSimulation, owner: object = None) -> V:
        if sim._seq:
            sim._account()
        return getattr(sim, self.storage)

    def __set__(self, sim: BatchedSimulation, value: V) -> None:
        if sim._seq:
            sim._account()
        setattr(sim, self.storage, value)


class BatchedSimulation(Simulation):
    """A Simulation whose per-block accounting runs in batches (see the module docstring)."""

    accounting = "in batches"

    def __init__(self, *args: Any, **kwargs: Any):
        # Rows of the blocks run since the last accounting; then, as they happen, cycles
        # charged by operand-timed instructions and data reads from each flash region, each
        # with its position in _seq.
        self._seq: list[int] = []  # (the rows are the dict's int objects: 8 bytes each)
        self._extra_at, self._extra_cycles = array("q"), array("q")
        self._reads: list[array[int]] = []  # per flash: position << 32 | address
        # The hook's fast lookup: address -> row of the latest block there, and each row's
        # size (a block at the same address with another size takes the slow way).
        self._by_address: dict[int, int] = {}
        self._sizes: list[int] = []
        self._table = BlockTable()
        self._cycles = self._instructions = 0
        self._current_block: Block | None = None
        self._tracker: CallTracker | None = None  # the profiler's, whose calls are replayed
        self._per_block: list[bool] = []  # non-empty: accounted block by block from now on
        super().__init__(*args, **kwargs)
        if self.memory_tracker is not None or self.max_instructions or self.max_cycles:
            raise ValueError("batched accounting cannot track memory or stop at limits")

    # The run's state, brought up to date whenever it is read or set (not by counts_so_far).
    cycles = _Synced[int]("_cycles")
    instructions = _Synced[int]("_instructions")
    _current = _Synced["Block | None"]("_current_block")

    def counts_so_far(self) -> tuple[int, int]:
        return self._cycles, self._instructions  # the blocks not yet accounted left out

    def _attach(self, observer: Observer) -> None:
        super()._attach(observer)
        if isinstance(observer, Profiler):
            self._tracker = observer.tracker

    # -- hooks ----------------------------------------------------------------------------------
    def _add_python_block_hook(self) -> BlockHook:
        uc = self.uc
        seq, by_address, sizes = self._seq, self._by_address, self._sizes
        append = seq.append
        account, other_block = self._account, self._other_block
        limit = BATCH_BLOCKS
        exc, per_block, on_block = self._exc_state, self._per_block, self._on_block
        exception_check = self._exception_check

        # Every executed block passes here: each operation counts.
        def hook(_engine: object, address: int, size: int) -> None:
            try:
                if exc.changed and not per_block and exception_check(address):
                    return
                if per_block:
                    on_block(uc, address, size, None)
                    return
                try:
                    row = by_address[address]
                except KeyError:
                    other_block(address, size)
                    return
                if sizes[row] != size:
                    other_block(address, size)
                    return
                append(row)
                if len(seq) >= limit:
                    account()
            except BaseException as e:  # noqa: BLE001 - re-raised after emu_start
                self._callback_error = e
                uc.emu_stop()

        return BlockHook(uc, hook)

    def _exception_check(self, address: int) -> bool:
        """The exception state changed: the batch is accounted and the exception model looks
        (whether the core was redirected). Exceptions need the cycle count at every block start,
        so once an interrupt source is armed or an exception pending or active, the run goes on
        block by block (Simulation._on_block)."""
        redirected = self.exc_model.poll(address)
        state = self._exc_state
        if self._exc_next != NO_EVENT or state.pending or state.active_stack:
            self._per_block.append(True)
        return redirected

    def _flash_read_timer(self, flash: FlashInterface) -> Callable[[int], None]:
        """Records a data read from `flash` with its position in the batch; its stall is found
        when the batch is accounted."""
        reads: array[int] = array("q")
        self._reads.append(reads)
        seq, append = self._seq, reads.append
        charge_now = super()._flash_read_timer(flash)

        def timed(address: int) -> None:
            if seq:
                append((len(seq) - 1) << 32 | address)
            else:  # nothing pending: the current block is the accounted one
                charge_now(address)

        return timed

    def _other_block(self, address: int, size: int) -> None:
        """A block not seen before: translated and accounted by the per-block path. (Or one
        that shares its address with another block.)"""
        block = self.blocks.get(address << 12 | size)
        if block is not None:
            row = self._by_address[address] = block.table_index
            self._seq.append(row)
            if len(self._seq) >= BATCH_BLOCKS:
                self._account()
            return
        self._on_block(self.uc, address, size, None)

    def _translate(self, address: int, size: int, key: int) -> Block:
        block = super()._translate(address, size, key)
        flash = self.flash.index(block.flash) if block.flash is not None else -1
        row = self._table.add(block, flash, self._function_id(self.function_of(block)))
        self._by_address[address] = row
        self._sizes.append(size)
        return block

    def _add_cycles(self, extra: int) -> None:
        if extra and self._seq:
            self._extra_at.append(len(self._seq) - 1)
            self._extra_cycles.append(extra)
        else:
            super()._add_cycles(extra)

    def _finish_counts(self) -> None:
        if self._seq:
            self._account()

    # -- accounting -----------------------------------------------------------------------------
    def _account(self) -> None:
        """Account the recorded blocks as `Simulation._on_block` would have, one by one."""
        table = self._table
        rows = np.fromiter(self._seq, dtype=np.intp, count=len(self._seq))
        self._seq.clear()
        last = self._current_block
        entered = last is None  # the first block was not reached from a block
        prev = np.empty_like(rows)
        prev[1:] = rows[:-1]
        prev[0] = 0 if entered else last.table_index  # type: ignore[union-attr]
        if not entered and self._account_transitions(rows, prev):
            return
        address = table["address"][rows]
        moved = address != table["fallthrough"][prev]  # did not fall through
        branched = table["branch_end"][prev] != 0
        if entered:
            moved[0], branched[0] = True, False

        charges = Charges()
        taken = np.flatnonzero(branched & moved)
        if len(taken):
            charges.add(taken, table["taken_extra"][prev[taken]], prev[taken])
            charges.add(taken, table["entry_extra"][rows[taken]], rows[taken])
        if self._mispredict_penalty:
            branches = np.flatnonzero(branched)
            wrong = branches[self._mispredicted(prev[branches], address[branches])]
            charges.add(wrong, self._mispredict_penalty, prev[wrong])
        for index, flash in enumerate(self.flash):
            if table.in_flash.get(index, 0) == table.size:
                positions = None  # every block runs from this flash
            else:
                positions = np.flatnonzero(table["flash"][rows] == index)
            stalls = fetch_stalls(self._table, flash, rows, moved, positions)
            charges.add(stalls, flash.ws, rows[stalls])
        self._charge_reads_and_extras(rows, charges)

        if self._tracker is not None:
            self._replay_calls(rows, prev, entered,
                               charges.per_position(table["cycles"][rows]))
        self._add_up(rows, charges.per_block(table.size))

    def _charge_reads_and_extras(self, rows: np.ndarray, charges: Charges) -> None:
        """Flash data reads and operand-timed cycles recorded with their positions."""
        for index, flash in enumerate(self.flash):
            reads = self._reads[index]
            if reads:
                stalls = data_stalls(flash, np.frombuffer(reads, dtype=np.int64).copy())
                del reads[:]
                charges.add(stalls, flash.ws, rows[stalls])
        if self._extra_at:
            where = np.frombuffer(self._extra_at, dtype=np.int64).astype(np.intp)
            cycles = np.frombuffer(self._extra_cycles, dtype=np.int64).copy()
            del self._extra_at[:], self._extra_cycles[:]
            charges.add(where, cycles, rows[where])

    def _add_up(self, rows: np.ndarray, extra: np.ndarray) -> None:
        """The batch's totals and per-block counters; `extra` is per block."""
        table = self._table
        executions = np.bincount(rows, minlength=table.size)
        self._instructions += int(executions @ table["count"])
        self._cycles += int(executions @ table["cycles"]) + int(extra.sum())
        blocks = table.blocks
        for row in np.flatnonzero(executions | extra).tolist():
            block = blocks[row]
            block.executions += int(executions[row])
            block.extra_cycles += int(extra[row])
        self._current_block = blocks[int(rows[-1])]

    def _account_transitions(self, rows: np.ndarray, prev: np.ndarray) -> bool:
        """The usual batch, accounted by its distinct transitions (block before, block) rather
        than position by position: without profiling or branch prediction, taken branches
        depend on the transition alone, and so do the flash look-ups, which all hit when every
        line looked up is already cached (then only their order of last use matters). Returns
        False, having changed nothing, for any other batch."""
        table = self._table
        size = table.size
        # (Its tables have a row per possible transition: worth it for long batches only.)
        if (self._tracker is not None or self._mispredict_penalty
                or size * size > min(1 << 22, 4 * len(rows))):
            return False
        codes = prev * size + rows
        counts = np.bincount(codes, minlength=size * size)
        pairs = np.flatnonzero(counts)
        times = counts[pairs]
        last_seen: np.ndarray | None = None  # per transition, its last position (if needed)
        before, after = np.divmod(pairs, size)
        moved = table["address"][after] != table["fallthrough"][before]
        # Per flash region: its transitions that look a line up, and (with a cache) the lines
        # looked up in order of last use; without a cache every look-up misses.
        caches: list[tuple[FlashInterface, np.ndarray, list[int]]] = []
        for index, flash in enumerate(self.flash):
            in_flash = table.in_flash.get(index, 0)
            if not in_flash:
                continue
            if in_flash != size or flash.fills_all:
                return False
            first = table["first_line"][after]
            looked = first != table["last_line"][before]
            if flash.prefetch:
                looked &= moved
            if not flash.icache.capacity:
                caches.append((flash, looked, []))
                continue
            if not flash.icache.holds(np.unique(first[looked]).tolist()):
                return False  # some look-up misses: position by position
            if last_seen is None:
                last_seen = np.full(size * size, -1, dtype=np.intp)
                np.maximum.at(last_seen, codes, np.arange(len(codes)))
            # Each position looks up one line: the lines by the last position they were used.
            when = {}
            for line, at in zip(first[looked].tolist(), last_seen[pairs[looked]].tolist(),
                                strict=True):
                when[line] = max(at, when.get(line, -1))
            caches.append((flash, np.zeros(0, dtype=bool), sorted(when, key=when.__getitem__)))
        # Nothing has changed so far; from here on the batch is accounted.
        charges = Charges()
        self._charge_reads_and_extras(rows, charges)
        extra = charges.per_block(size)
        for flash, missed, order in caches:
            flash.icache.use(order)
            flash.current = int(table["last_line"][rows[-1]])
            if missed.any():
                stalls = flash.ws * times[missed]
                extra += np.bincount(after[missed], weights=stalls,
                                     minlength=size).astype(np.int64)
                flash.fetch_stall_cycles += int(stalls.sum())
        taken = moved & (table["branch_end"][before] != 0)
        for owners, cycles in ((before[taken], table["taken_extra"][before[taken]]),
                               (after[taken], table["entry_extra"][after[taken]])):
            extra += np.bincount(owners, weights=cycles * times[taken],
                                 minlength=size).astype(np.int64)
        self._add_up(rows, extra)
        return True

    def _mispredicted(self, branch: np.ndarray, successor: np.ndarray) -> np.ndarray:
        """Which of these branch-ended blocks went elsewhere than predicted: the core predicts
        the successor the block had last time (first time: its fall-through)."""
        blocks = self._table.blocks
        wrong = np.zeros(len(branch), dtype=bool)
        if not len(branch):
            return wrong
        order = np.argsort(branch, kind="stable")  # by branch block, then in time
        branch, successor = branch[order], successor[order]
        first = np.flatnonzero(after(-1, branch) != branch)
        predicted = np.empty_like(successor)
        predicted[1:] = successor[:-1]
        predicted[first] = [blocks[row].predicted for row in branch[first].tolist()]
        wrong[order] = successor != predicted
        ends = np.append(first[1:] - 1, len(branch) - 1)
        for row, target in zip(branch[ends].tolist(), successor[ends].tolist(), strict=True):
            blocks[row].predicted = target
        return wrong

    def _replay_calls(self, rows: np.ndarray, prev: np.ndarray, entered: bool,
                      cycles: np.ndarray) -> None:
        """Feed the call tracker: it only acts on a block entered from a call or in another
        function than the block before (see CallTracker.enter); between those, every block's
        cycles go to the same stack."""
        table, tracker, names = self._table, self._tracker, self._function_names
        assert tracker is not None
        function = table["function"][rows]
        called = table["call_end"][prev] != 0
        changed = function != table["function"][prev]
        if entered:
            called[0], changed[0] = False, True
        if tracker.override_pending:  # after an exception event (sim/observe/exc_calls.py)
            changed[0] = True
        events = np.flatnonzero(called | changed)
        starts = events if len(events) and events[0] == 0 else after(0, events, whole=True)
        spent = np.add.reduceat(cycles, starts)
        cycles_before = self._cycles + np.cumsum(cycles) - cycles
        insns = table["count"][rows]
        insns_before = self._instructions + np.cumsum(insns) - insns
        # What the loop reads, per start, as Python ints in one C pass per column (a numpy
        # scalar looked up and converted per event was most of the loop's time).
        is_event = (called | changed)[starts].tolist()
        entered_at = zip(function[starts].tolist(), table["address"][rows[starts]].tolist(),
                         np.where(called, table["fallthrough"][prev], -1)[starts].tolist(),
                         cycles_before[starts].tolist(), insns_before[starts].tolist(),
                         strict=True)
        enter, charge = tracker.enter, tracker.charge
        for event, (f, address, back, before, insns_at), k_spent in zip(
                is_event, entered_at, spent.tolist(), strict=True):
            if event:
                enter(names[f], address, back if back >= 0 else None, before, insns_at)
            charge(k_spent)

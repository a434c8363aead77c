"""The run engine: a Unicorn Cortex-M core inside the board's memory map, timed per block.

A `Simulation` is composed of parts: the board (memory map, clock, peripherals), the
firmware, the timing model, the options of the run (sim/core/options.py) and its observers
(sim/core/observer.py), which register their own hooks. This class is also the block-by-block
accounting path; the batched and native paths (sim/accounting/) are subclasses, and
`make_simulation` (sim/simulation.py) chooses one. Python sees each translated block once
(decode and time it) and then only adds its precomputed totals each time it runs; a block left
early (semihosting, a fault) has its unexecuted tail taken back, so totals are exact.
"""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import unicorn.arm_const as arm
from unicorn import UC_ARCH_ARM, UC_HOOK_INTR, UC_HOOK_MEM_INVALID, UC_MODE_THUMB, Uc, UcError

from mcusim.base.heap import frozen_for_run
from mcusim.isa.block_cache import BlockCache, read_path_key
from mcusim.isa.timing import TimingModel, make_timing
from mcusim.memory.board_spec import BoardSpec
from mcusim.memory.flash import FlashInterface
from mcusim.memory.footprint import Footprint, footprint
from mcusim.sim.core import interrupt
from mcusim.sim.core.blocks import Block
from mcusim.sim.core.device_map import DeviceMap
from mcusim.sim.core.exc_event import ExceptionWatcher
from mcusim.sim.core.exceptions import NO_EVENT, ExceptionHooks, ExceptionModel
from mcusim.sim.core.fault_entry import FaultEntry
from mcusim.sim.core.firmware import Firmware
from mcusim.sim.core.markers import RegionMarkers
from mcusim.sim.core.memmap import load_firmware, map_regions, read_vector_table
from mcusim.sim.core.observer import Observer
from mcusim.sim.core.options import MAX_COUNT, RunOptions
from mcusim.sim.core.regions import RegionEvent
from mcusim.sim.core.result_build import build_result
from mcusim.sim.core.stops import StopHooks, StopInfo
from mcusim.sim.core.translation import BlockTranslation, CodeHook
from mcusim.sim.core.uc_api import BlockHook, RegisterReader, emu_start
from mcusim.sim.devices.guest_memory import GuestMemory
from mcusim.sim.devices.peripherals import UnknownAccessLog
from mcusim.sim.devices.semihosting import Semihosting
from mcusim.sim.result import RunResult

NEVER = 0xFFFFFFFE  # emu_start's "until": an address no program returns to

BlockWatcher = Callable[[Block, "Block | None", int], None]


class Simulation(BlockTranslation, DeviceMap, RegionMarkers, StopHooks, FaultEntry,
                 ExceptionHooks):
    native = False
    accounting = "block by block"

    def __init__(self, firmware: Firmware, board: BoardSpec, options: RunOptions | None = None,
                 *, timing: TimingModel | None = None, observers: Sequence[Observer] = ()):
        options = options if options is not None else RunOptions()
        program = options.io
        self.options = options
        self.firmware = firmware
        self.board = board
        self.timing = timing or make_timing("table", board.core.name,
                                            board.multiplier == "32-cycle")
        self.stdout = program.stdout if program.stdout is not None else io.BytesIO()
        self.stderr = program.stderr if program.stderr is not None else io.BytesIO()
        self.max_instructions = options.limits.max_instructions
        self.max_cycles = options.limits.max_cycles
        self.argv = list(program.argv) if program.argv else [firmware.path.name]
        self.symbol_regions = list(options.symbol_regions)
        self.observers = list(observers)

        self.instructions = 0
        self.cycles = 0
        self.blocks: dict[int, Block] = {}
        self.region_events: list[RegionEvent] = []
        self.restarts = 0  # emulation restarts to instrument code the ELF did not show
        self.host_timeout = options.limits.timeout  # --timeout: seconds of host time
        self._current: Block | None = None
        self._pc_hint = 0
        self._stop: StopInfo | None = None
        self._restart_at: int | None = None
        self._callback_error: BaseException | None = None
        self._mispredict_penalty = self.timing.mispredict_penalty
        self._access_key = -1
        self._pc_hint_is_access = False
        self._access_next = 0
        self._code_hooks: dict[tuple[int, object], int] = {}
        # Function names of translated blocks, numbered for the accounting tables.
        self._function_ids: dict[str, int] = {}
        self._function_names: list[str] = []
        no_limit = MAX_COUNT + 1
        self._insn_limit = self.max_instructions if self.max_instructions is not None else no_limit
        self._cycle_limit = self.max_cycles if self.max_cycles is not None else no_limit
        # What the observers registered (see watch_blocks and the others).
        self._block_watchers: list[BlockWatcher] = []
        self._charge_watchers: list[Callable[[int], None]] = []
        self._marker_watchers: list[Callable[[str, bool], None]] = []
        self._instrumenters: list[Callable[[Block], list[CodeHook]]] = []
        self._exception_watchers: list[ExceptionWatcher] = []
        # Exception latency charged so far, per event kind: [count, cycles].
        self.exception_latency: dict[str, list[int]] = {}
        # Set by the memory observer when it attaches (sim/observe/memory.py), for its readers.
        self.memory_tracker: Any = None

        self.unknown_accesses = UnknownAccessLog()
        self.semihosting = Semihosting(
            fs_root=Path(program.fs_root), argv=self.argv, stdout=self.stdout,
            stderr=self.stderr, stdin=program.stdin, now_cycles=self.now,
            clock_hz=board.clock_hz)
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB,
                     getattr(arm, f"UC_CPU_ARM_{board.core.unicorn_model}"))
        self._registers = RegisterReader(self.uc)
        self.guest_memory = GuestMemory(self.uc, board)  # what semihosting may touch
        self._buffers = map_regions(self.uc, board)
        # The flash read path is part of the cycle model; the naive model ignores memory.
        self.flash = [] if self.timing.name == "naive" else [
            f for f in (FlashInterface(r, board.clock_hz) for r in board.regions
                        if r.kind == "flash") if f.active]
        key = getattr(self.timing, "cache_key", None)
        self._block_cache = (BlockCache.for_image(firmware.path, " ".join(
            [key] + [read_path_key(f) for f in self.flash])) if key is not None else None)
        load_firmware(self.uc, board, firmware)
        self.initial_sp, self.reset_vector = read_vector_table(board, firmware)
        self._map_peripherals()
        # Exceptions (sim/core/exceptions.py): each block start looks at `changed` and the
        # cycle of the next interrupt-source event, nothing more, until one of them says so.
        self._exc_state = self.core_peripherals.exceptions
        self._exc_next = NO_EVENT
        self.exc_model = ExceptionModel(self)
        self._add_hooks()
        for observer in self.observers:
            self._attach(observer)
        self._place_hooks()

    # -- set-up -------------------------------------------------------------------------------
    def _add_hooks(self) -> None:
        uc = self.uc
        self.block_hook = self._add_python_block_hook()
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        uc.hook_add(UC_HOOK_MEM_INVALID, self._on_bad_access)
        self._add_fault_traps()  # FAULTS: alignment and divide-by-zero traps
        self._add_flash_hooks(uc)
        self._add_marker_hooks(uc)

    def _attach(self, observer: Observer) -> None:
        """Where an accounting path that does an observer's per-block work itself steps in."""
        observer.attach(self)

    # -- what observers register ----------------------------------------------------------------
    def watch_blocks(self, watcher: BlockWatcher) -> None:
        """`watcher(block, previous block, cycles charged)` after each block is counted, on the
        block-by-block path (the other paths do their observers' per-block work themselves)."""
        self._block_watchers.append(watcher)

    def watch_charges(self, watcher: Callable[[int], None]) -> None:
        """`watcher(cycles)` for cycles charged to the running block beyond its count, or taken
        back (negative) when a block is left early."""
        self._charge_watchers.append(watcher)

    def watch_markers(self, watcher: Callable[[str, bool], None]) -> None:
        """`watcher(name, begin)` at each region marker."""
        self._marker_watchers.append(watcher)

    def instrument_blocks(self, instrumenter: Callable[[Block], list[CodeHook]]) -> None:
        """`instrumenter(block)` for each new block: code hooks to put on its instructions."""
        self._instrumenters.append(instrumenter)

    # -- time ---------------------------------------------------------------------------------
    def counts_so_far(self) -> tuple[int, int]:
        """(cycles, instructions) as accounted so far, read without accounting anything: what
        another thread (the progress line) may read while the run goes on."""
        return self.cycles, self.instructions

    def now(self) -> int:
        """The cycle count as the instruction at the last known PC of the current block sees
        it: at its memory access for a load or store, else when it starts."""
        block = self._current
        if block is None:
            return self.cycles
        if self._pc_hint_is_access:
            return self.cycles - block.cycles + block.data_phase(self._pc_hint)
        return self.cycles - block.cycles + block.cycles_before(self._pc_hint)

    def _instructions_now(self) -> int:
        block = self._current
        if block is None:
            return self.instructions
        return self.instructions - block.count + block.count_before(self._pc_hint)

    # -- per block ----------------------------------------------------------------------------
    def _on_block(self, uc: Uc, address: int, size: int, _: object) -> None:
        if ((self._exc_state.changed or self.cycles >= self._exc_next)
                and self.exc_model.poll(address)):
            return  # the core took an exception: this block runs after the return
        key = (address << 12) | size
        block = self.blocks.get(key)
        if block is None:
            block = self._translate(address, size, key)
            if self._stop is not None or self._restart_at is not None:
                return  # the block does not run now (see _translate)
        cycles = block.cycles
        prev = self._current
        if prev is not None and prev.branch_end:
            if address != prev.fallthrough:
                # A taken branch: the refill the previous block's conditional branch costs, and
                # the cost of landing on this block's first instruction.
                prev.extra_cycles += prev.taken_extra
                block.extra_cycles += block.entry_extra
                cycles += prev.taken_extra + block.entry_extra
            if self._mispredict_penalty and address != prev.predicted:
                # The core predicted the block that followed last time (first time: fall
                # through); any other successor costs a pipeline flush.
                prev.predicted = address
                prev.extra_cycles += self._mispredict_penalty
                cycles += self._mispredict_penalty
        flash = block.flash
        if flash is not None:
            lines = block.flash_lines
            if lines[0] == flash.current and not flash.fills_all:
                flash.current = lines[-1]  # still in the line buffer: nothing to fetch
            else:
                stall = flash.enter(lines, prev is None or address != prev.fallthrough)
                if stall:
                    block.extra_cycles += stall
                    cycles += stall
        block.executions += 1
        self.instructions += block.count
        self.cycles += cycles
        self._current = block
        for watch in self._block_watchers:
            watch(block, prev, cycles)
        if self.instructions > self._insn_limit or self.cycles > self._cycle_limit:
            over_instructions = self.instructions > self._insn_limit
            self._take_back(block, 0)
            self._stop_at_limit(over_instructions, address)

    def _stop_at_limit(self, over_instructions: bool, address: int) -> None:
        what = (f"--max-instructions {self.max_instructions}" if over_instructions
                else f"--max-cycles {self.max_cycles}")
        counted = "instructions" if over_instructions else "cycles"
        self._halt("limit", f"stopped at the limit {what} ({counted} are counted per block, "
                   "so the run stops before the first block that would exceed it)", address)

    def _take_back(self, block: Block, executed: int) -> None:
        """The current block stopped after `executed` instructions: remove the rest."""
        lost_count = block.count - executed
        if lost_count <= 0:
            return
        pc = block.insns[executed].address if executed < block.count else 0
        lost_cycles = block.cycles - block.cycles_before(pc)
        self.instructions -= lost_count
        self.cycles -= lost_cycles
        for charge in self._charge_watchers:
            charge(-lost_cycles)
        block.lost_count += lost_count
        block.lost_cycles += lost_cycles

    def _add_cycles(self, extra: int) -> None:
        """Cycles the current block costs beyond its static count, charged as it runs."""
        if not extra:
            return
        self.cycles += extra
        if self._current is not None:
            self._current.extra_cycles += extra
        for charge in self._charge_watchers:
            charge(extra)

    def _add_python_block_hook(self) -> BlockHook:
        """The per-block hook, registered with Unicorn's C API directly (sim/core/uc_api.py).
        An exception cannot unwind through C, so it stops the emulation and is raised again
        after emu_start."""
        uc = self.uc
        on_block = self._on_block

        def hook(_engine: object, address: int, size: int) -> None:
            try:
                on_block(uc, address, size, None)
            except BaseException as e:  # noqa: BLE001 - re-raised after emu_start
                self._callback_error = e
                uc.emu_stop()

        return BlockHook(uc, hook)

    def remove_block_hook(self) -> None:
        """Take the per-block accounting out (benchmarks measure Unicorn without it)."""
        self.block_hook.delete()

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> RunResult:
        uc = self.uc
        uc.reg_write(arm.UC_ARM_REG_SP, self.initial_sp)
        start = time.perf_counter()
        pc = self.reset_vector
        with self._signal_guard(), interrupt.host_timer(self.host_timeout), frozen_for_run():
            while True:
                self._restart_at = None
                try:
                    emu_start(uc, pc | 1, NEVER)
                except UcError as e:
                    if self._stop is None:
                        self._stop_on_error(e)
                self._after_emulation()
                if self._restart_at is None or self._stop is not None:
                    break
                pc = self._restart_at
        host_seconds = time.perf_counter() - start
        if self._block_cache is not None:
            self._block_cache.save()
        self._finish_counts()
        self.semihosting.close_all()
        result = build_result(self, host_seconds)
        for observer in self.observers:
            observer.finish(self, result)
        return result

    def _after_emulation(self) -> None:
        """After each emu_start: what stopped it, if a hook could not say it there."""
        if self._callback_error is not None:
            error, self._callback_error = self._callback_error, None
            raise error

    def _finish_counts(self) -> None:
        """At the end: where an accounting path brings its per-block counters home."""

    # -- state for observers, views and tests ---------------------------------------------------
    @functools.cached_property
    def footprint(self) -> Footprint:
        """The ELF's static footprint per region (read only when memory is accounted)."""
        return footprint(self.firmware.path, self.board, self.firmware.symbols.addresses())

    @property
    def stop_info(self) -> StopInfo | None:
        """Why the run stopped, when not by the program's exit."""
        return self._stop

    def stop_pending(self) -> bool:
        """Whether the run is to stop: a stop was decided, or a signal arrived that the
        accounting path acts on at its next block. Code that waits inside a hook (the GDB
        stub) looks here, then calls stop_now()."""
        return self._stop is not None

    def stop_now(self) -> None:
        """From inside a hook: end the emulation for what stop_pending() saw. On this path
        the Python signal handler has already decided the stop."""
        self.uc.emu_stop()

    @property
    def current_block(self) -> Block | None:
        return self._current

    def function_of(self, block: Block) -> str:
        """The function a block belongs to; code outside every symbol gets a made-up name."""
        return block.function or self.firmware.symbols.unknown_name(block.address)

    def read_memory(self, address: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(address, size))

    def read_symbol(self, name: str) -> bytes:
        sym = self.firmware.symbols.get(name)
        if sym is None:
            raise KeyError(f"no symbol {name!r} in {self.firmware.path}")
        return self.read_memory(sym.address, sym.size)

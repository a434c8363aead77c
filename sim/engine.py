"""The run engine: a Unicorn Cortex-M core inside the board's memory map, timed per block.

A `Simulation` is composed of parts that can be swapped: the board (memory map, clock,
peripherals), the firmware, and the timing model. Python sees each translated block once
(decode and time it) and then only adds its precomputed totals each time it runs; a block left
early (semihosting, a fault) has its unexecuted tail taken back, so totals are exact.
"""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import unicorn.arm_const as arm
from capstone import arm_const as cs_arm
from unicorn import (
    UC_ARCH_ARM,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_INVALID,
    UC_MODE_THUMB,
    Uc,
    UcError,
)

from mcusim.isa.block_cache import BlockCache, read_path_key
from mcusim.isa.timing import TimingModel, make_timing
from mcusim.memory.board import BoardSpec
from mcusim.memory.flash import FlashInterface
from mcusim.memory.footprint import Footprint, footprint
from mcusim.sim import faults
from mcusim.sim.access import locate
from mcusim.sim.blocks import Block, translate
from mcusim.sim.errors import UsageError
from mcusim.sim.firmware import Firmware
from mcusim.sim.flash_data import FlashDataPath, PythonReader, flash_bytes
from mcusim.sim.memmap import load_firmware, map_regions, read_vector_table
from mcusim.sim.memory_report import live_curve, memory_counters, memory_report
from mcusim.sim.memory_tracker import MemoryTracker
from mcusim.sim.peripherals import (
    PPB_BASE,
    PPB_SIZE,
    TIMED_REGISTERS,
    CorePeripherals,
    PeripheralBus,
    UnknownAccessLog,
)
from mcusim.sim.profile_build import build_profile
from mcusim.sim.profiler import CallTracker
from mcusim.sim.regions import region_counts
from mcusim.sim.result import RunResult
from mcusim.sim.run_result import build_result
from mcusim.sim.semihosting import Semihosting, read_cstring
from mcusim.sim.stops import StopHooks, StopInfo
from mcusim.sim.uc_api import BlockHook, RegisterReader, emu_start

NEVER = 0xFFFFFFFE  # emu_start's "until": an address no program returns to
REGION_BEGIN = "mcusim_region_begin"
REGION_END = "mcusim_region_end"

# Capstone register ids -> Unicorn register ids, for reading operands of timed instructions.
_UC_REG = {getattr(cs_arm, f"ARM_REG_{n}"): getattr(arm, f"UC_ARM_REG_{n}")
           for n in [f"R{i}" for i in range(13)] + ["SP", "LR", "PC"]}


@dataclass
class RegionEvent:
    name: str
    begin: bool
    instructions: int
    cycles: int


class Simulation(StopHooks):
    native = False
    accounting = "block by block"

    def __new__(cls, *args: object, native: bool | None = None, batched: bool | None = None,
                **kwargs: object):
        """The native hot path when it is built, unless `native=False`; else the pure-Python
        path, accounting blocks in batches where the run allows it, unless `batched=False`."""
        if cls is not Simulation:
            return super().__new__(cls)
        if native is not False:
            from mcusim.sim import native_path

            if native_path.load_library() is not None:
                return super().__new__(native_path.NativeSimulation)
            if native:
                raise UsageError(f"the native hot path is not available: "
                                 f"{native_path.load_error()}")
        from mcusim.sim import batched as batched_path

        if batched is not False and batched_path.batch_eligible(kwargs):
            return super().__new__(batched_path.BatchedSimulation)
        return super().__new__(cls)

    def __init__(self, firmware: Firmware, board: BoardSpec, *,
                 timing: TimingModel | None = None,
                 fs_root: str | Path = ".",
                 argv: Sequence[str] | None = None,
                 stdout: BinaryIO | None = None,
                 stderr: BinaryIO | None = None,
                 stdin: BinaryIO | None = None,
                 max_instructions: int | None = None,
                 max_cycles: int | None = None,
                 profile: bool = False,
                 profile_lines: bool = False,
                 symbol_regions: Sequence[tuple[str, str]] = (),
                 memory: bool = False,
                 record_accesses: bool = False,
                 trace_window: tuple[int, int] | None = None,
                 max_accesses: int | None = None,
                 record_regions: Sequence[str] | None = None,
                 live_analysis: bool = True,
                 native: bool | None = None,
                 batched: bool | None = None):
        for name, value in (("--max-instructions", max_instructions),
                            ("--max-cycles", max_cycles)):
            if value is not None and value <= 0:
                raise UsageError(f"{name} must be a positive number, not {value}")
        self.firmware = firmware
        self.board = board
        self.timing = timing or make_timing("table", board.core.name,
                                            board.multiplier == "32-cycle")
        self.stdout = stdout if stdout is not None else io.BytesIO()
        self.stderr = stderr if stderr is not None else io.BytesIO()
        self.max_instructions = max_instructions
        self.max_cycles = max_cycles
        self.argv = list(argv) if argv else [firmware.path.name]

        self.instructions = 0
        self.cycles = 0
        self.blocks: dict[int, Block] = {}
        self.region_events: list[RegionEvent] = []
        self._current: Block | None = None
        self._pc_hint = 0
        self._stop: StopInfo | None = None
        self._restart_at: int | None = None
        self._callback_error: BaseException | None = None
        self._mispredict_penalty = self.timing.mispredict_penalty
        self._tracker: CallTracker | None = None
        self._memory: MemoryTracker | None = None
        self.live_analysis = live_analysis
        self.profile_lines = profile_lines
        self.symbol_regions = list(symbol_regions)
        self._access_key = -1
        self._pc_hint_is_access = False
        self._access_next = 0
        self._code_hooks: dict[tuple[int, object], int] = {}
        # Function names of translated blocks, numbered for the accounting tables.
        self._function_ids: dict[str, int] = {}
        self._function_names: list[str] = []
        self._insn_limit = max_instructions if max_instructions is not None else 1 << 62
        self._cycle_limit = max_cycles if max_cycles is not None else 1 << 62

        self.unknown_accesses = UnknownAccessLog()
        self.semihosting = Semihosting(
            fs_root=Path(fs_root), argv=self.argv, stdout=self.stdout, stderr=self.stderr,
            stdin=stdin, now_cycles=self.now, clock_hz=board.clock_hz)
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB,
                     getattr(arm, f"UC_CPU_ARM_{board.core.unicorn_model}"))
        self._registers = RegisterReader(self.uc)
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
        if profile:
            entry = firmware.symbols.function_at(self.reset_vector & ~1)
            self._tracker = CallTracker(entry.name if entry else "reset")
        if memory or record_accesses:
            self._memory = self._new_memory_tracker(
                MemoryTracker(self, self.footprint.static_ram_bytes, record=record_accesses,
                              window=trace_window, max_accesses=max_accesses,
                              regions=list(record_regions) if record_regions else None))
        self._map_peripherals()
        self._add_hooks()
        if self._memory is not None:
            self._memory.attach(self.uc)

    # -- set-up -------------------------------------------------------------------------------
    def _map_peripherals(self) -> None:
        self.core_peripherals = CorePeripherals(
            self.board.core, self.board, self.now, self._request_reset, self.unknown_accesses)
        self.peripheral_bus = PeripheralBus(self.board, self.stdout, self.unknown_accesses)
        self._mmio(PPB_BASE, PPB_SIZE, self.core_peripherals)
        for p in self.board.peripherals:
            if not PPB_BASE <= p.base < PPB_BASE + PPB_SIZE:
                self._mmio(p.base, p.size, self.peripheral_bus)

    def _mmio(self, base: int, size: int, device: CorePeripherals | PeripheralBus) -> None:
        # The counter registers' values depend on which instruction of the block accesses
        # them: find it first (Unicorn tells no exact PC; see _on_timed_access).
        timed = [(first, last) for first, last in TIMED_REGISTERS
                 if base <= first and last < base + size]

        def access(uc: Uc, offset: int) -> int:
            address = base + offset
            if any(first <= address <= last for first, last in timed):
                self._on_timed_access(uc, address)
            return address

        def read(uc: Uc, offset: int, size: int, _: object) -> int:
            return device.read(access(uc, offset), size)

        def write(uc: Uc, offset: int, size: int, value: int, _: object) -> None:
            device.write(access(uc, offset), size, value)

        self.uc.mmio_map(base, size, read, None, write, None)

    def _add_hooks(self) -> None:
        uc = self.uc
        self.block_hook = self._add_python_block_hook()
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        uc.hook_add(UC_HOOK_MEM_INVALID, self._on_bad_access)
        self._add_flash_hooks(uc)
        for name, begin in ((REGION_BEGIN, True), (REGION_END, False)):
            sym = self.firmware.symbols.get(name)
            if sym is not None:
                uc.hook_add(UC_HOOK_CODE, self._on_region_marker, begin,
                            begin=sym.address, end=sym.address)
        for start, end in self.symbol_regions:
            name = f"{start}:{end}"
            for symbol, begin in ((start, True), (end, False)):
                sym = self.firmware.symbols.get(symbol)
                if sym is None:
                    raise UsageError(
                        f"--region {name}: no symbol {symbol!r} in {self.firmware.path}; "
                        "give two function or label names, e.g. start_trigger:stop_trigger")
                uc.hook_add(UC_HOOK_CODE, self._on_symbol_region, (name, begin),
                            begin=sym.address, end=sym.address)

    # -- time ---------------------------------------------------------------------------------
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

    # -- hooks --------------------------------------------------------------------------------
    def _on_block(self, uc: Uc, address: int, size: int, _: object) -> None:
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
        if self._tracker is not None:
            self._tracker.enter(self._function_of(block),
                                address, prev.fallthrough if prev is not None and prev.call_end
                                else None, self.cycles, self.instructions)
            self._tracker.charge(cycles)
        block.executions += 1
        self.instructions += block.count
        self.cycles += cycles
        self._current = block
        if self._memory is not None:
            self._memory.on_block(uc, block)
        if self.instructions > self._insn_limit or self.cycles > self._cycle_limit:
            over_instructions = self.instructions > self._insn_limit
            self._take_back(block, 0)
            self._stop_at_limit(over_instructions, address)

    def _stop_at_limit(self, over_instructions: bool, address: int) -> None:
        what = (f"--max-instructions {self.max_instructions}" if over_instructions
                else f"--max-cycles {self.max_cycles}")
        self._halt("limit", f"stopped at the limit {what} (instructions are counted per "
                   "block, so the run stops at the first block that would exceed it)",
                   address)

    def _translate(self, address: int, size: int, key: int) -> Block:
        code = bytes(self.uc.mem_read(address, size)) if size else b""
        function = self.firmware.symbols.function_at(address)
        flash = next((f for f in self.flash if f.region.contains(address)), None)
        block = translate(code, address, self.timing, function.name if function else None,
                          flash, self._block_cache)
        self.blocks[key] = block
        if block.self_loop:
            # Nothing can leave "b ." when interrupts are not modelled: say so now instead of
            # spinning until a limit. The block does not run.
            where = self.firmware.symbols.describe(address)
            self._halt("limit", f"infinite loop: branch to itself at {where} "
                       f"({address:#010x}); nothing can interrupt it (interrupts are not "
                       "modelled)", address)
        else:
            self._instrument(block)
        return block

    def _function_of(self, block: Block) -> str:
        """The function a block belongs to; code outside every symbol gets a made-up name."""
        return block.function or self.firmware.symbols.unknown_name(block.address)

    def _function_id(self, name: str) -> int:
        number = self._function_ids.get(name)
        if number is None:
            number = self._function_ids[name] = len(self._function_names)
            self._function_names.append(name)
        return number

    def _instrument(self, block: Block) -> None:
        """Put code hooks on the instructions of a new block that need a look at registers as
        they run (operand-timed instructions; run-time SP writes when tracking memory), then
        retranslate it: Unicorn only instruments blocks translated after a hook exists. The
        block has not run yet (its block hook runs first), so the run restarts at its
        address."""
        wanted: list[tuple[int, object, object]] = []
        by_address = {i.address: i for i in block.insns}
        for addr, rule in block.dynamic.items():
            regs = tuple(_UC_REG[r] for r in by_address[addr].sources)
            signed = rule == "div" and self._signed_div(addr)
            wanted.append((addr, self._on_dynamic, (rule, regs, signed)))
        if self._memory is not None:
            wanted += self._memory.code_hooks(block)
        wanted += [(i.address, self._on_wait, i.text.split(".")[0].upper())
                   for i in block.insns if i.cls == "wfi"]
        added = False
        for addr, callback, data in wanted:
            key = (addr, callback)
            if key in self._code_hooks:
                continue
            self._code_hooks[key] = self._add_code_hook(addr, callback, data)
            added = True
        if added:
            self.uc.ctl_remove_cache(block.address, block.address + block.size)
            self._restart_at = block.address
            self.uc.emu_stop()

    def _add_code_hook(self, address: int, callback: object, data: object) -> int:
        return self.uc.hook_add(UC_HOOK_CODE, callback, data, begin=address, end=address)

    def _on_dynamic(self, uc: Uc, address: int, size: int,
                    spec: tuple[str, tuple[int, ...], bool]) -> None:
        rule, regs, signed = spec
        values = tuple(self._registers.read(r) for r in regs)
        if signed:
            values = tuple(abs(v - (1 << 32) if v & 0x80000000 else v) for v in values)
        self._add_cycles(self.timing.dynamic_cycles(rule, values))

    def _signed_div(self, address: int) -> bool:
        hw = self._halfword(address)
        return hw is not None and hw & 0xFFF0 == 0xFB90  # SDIV; UDIV is 0xFBB0

    def _take_back(self, block: Block, executed: int) -> None:
        """The current block stopped after `executed` instructions: remove the rest."""
        lost_count = block.count - executed
        if lost_count <= 0:
            return
        pc = block.insns[executed].address if executed < block.count else 0
        lost_cycles = block.cycles - block.cycles_before(pc)
        self.instructions -= lost_count
        self.cycles -= lost_cycles
        if self._tracker is not None:
            self._tracker.charge(-lost_cycles)
        block.lost_count += lost_count
        block.lost_cycles += lost_cycles

    def _new_memory_tracker(self, tracker: MemoryTracker) -> MemoryTracker:
        """Where an accounting path takes over the tracker's per-block work."""
        return tracker

    def _add_python_block_hook(self) -> BlockHook:
        """The per-block hook, registered with Unicorn's C API directly (sim/uc_api.py). An
        exception cannot unwind through C, so it stops the emulation and is raised again
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

    def _add_flash_hooks(self, uc: Uc) -> None:
        """Data reads from flash go through the timed read path (sim/flash_data.py)."""
        self.flash_data = FlashDataPath(uc, self.flash) if self.flash else None
        for flash in self.flash:
            self.flash_data.map_python(flash, self._flash_reader(flash))  # type: ignore[union-attr]

    def _flash_reader(self, flash: FlashInterface) -> PythonReader:
        """What answers a data read from `flash` (an offset into the region): the bytes, after
        timing the read."""
        value = flash_bytes(self._buffers[self.board.regions.index(flash.region)])
        timed, base, uc = self._flash_read_timer(flash), flash.region.base, self.uc

        def read(_engine: object, offset: int, size: int) -> int:
            try:
                timed(base + offset)
            except BaseException as e:  # noqa: BLE001 - re-raised after emu_start
                self._callback_error = e
                uc.emu_stop()
            return value(offset, size)

        return read

    def _flash_read_timer(self, flash: FlashInterface) -> Callable[[int], None]:
        """Times a data read at an address of `flash`: its stall cycles are charged to the
        block running now."""
        return lambda address: self._add_cycles(flash.read(address))

    def _add_cycles(self, extra: int) -> None:
        """Cycles the current block costs beyond its static count, charged as it runs."""
        if not extra:
            return
        self.cycles += extra
        if self._current is not None:
            self._current.extra_cycles += extra
        if self._tracker is not None:
            self._tracker.charge(extra)

    def _on_timed_access(self, uc: Uc, address: int) -> None:
        """Which instruction of the current block accesses `address`: found from the operands'
        registers (sim/access.py), it tells at which cycle of the block the access happens."""
        block = self._current
        if block is None:
            return
        # One execution of the block is identified by the instruction count at its entry.
        if self._access_key != self.instructions:
            self._access_key, self._access_next = self.instructions, 0
        idx = locate(block.insns, self._access_next, address,
                     lambda r: uc.reg_read(_UC_REG[r]))
        if idx is not None:
            self._pc_hint = block.insns[idx].address
            self._pc_hint_is_access = True
            multi = block.insns[idx].cls in ("ldm", "stm", "ldrd", "strd", "vldm", "vstm")
            self._access_next = idx if multi else idx + 1

    def _on_region_marker(self, uc: Uc, address: int, size: int, begin: bool) -> None:
        self._pc_hint, self._pc_hint_is_access = address, False
        name_ptr = uc.reg_read(arm.UC_ARM_REG_R0)
        try:
            name = read_cstring(uc, name_ptr, limit=256).decode("utf-8", "replace")
        except UcError:
            name = f"<bad name pointer {name_ptr:#x}>"
        self._region_event(name, begin)

    def _region_event(self, name: str, begin: bool) -> None:
        cycles = self.now()
        self.region_events.append(RegionEvent(name, begin, self._instructions_now(), cycles))
        if self._memory is not None:
            self._memory.on_marker(name, begin)

    def _on_symbol_region(self, uc: Uc, address: int, size: int,
                          spec: tuple[str, bool]) -> None:
        self._pc_hint, self._pc_hint_is_access = address, False
        name, begin = spec
        self._region_event(name, begin)

    def run(self) -> RunResult:
        uc = self.uc
        uc.reg_write(arm.UC_ARM_REG_SP, self.initial_sp)
        start = time.perf_counter()
        pc = self.reset_vector
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
        if self._tracker is not None:
            self._tracker.finish(self.cycles, self.instructions)
        result = build_result(self, host_seconds)
        if self._tracker is not None:
            result.profile = build_profile(self, lines=self.profile_lines)
        if self._memory is not None:
            curve = live_curve(self._memory) if self.live_analysis else None
            result.memory = memory_report(self, self._memory, curve)
            if result.profile is not None:
                result.profile.counters = memory_counters(self._memory, curve)
            if self._memory.overflow:
                result.warnings.append(self._memory.overflow)
        return result

    def _after_emulation(self) -> None:
        """After each emu_start: what stopped it, if a hook could not say it there."""
        if self._callback_error is not None:
            error, self._callback_error = self._callback_error, None
            raise error

    def _finish_counts(self) -> None:
        """At the end: where an accounting path brings its per-block counters home."""

    def _stop_on_error(self, error: UcError) -> None:
        pc = self.uc.reg_read(arm.UC_ARM_REG_PC)
        block = self._current
        if block is not None:
            self._take_back(block, block.count_before(pc))
        kind, message = faults.describe_uc_error(error, pc)
        if kind == "undefined_instruction" and self._arm_state():
            kind, message = faults.describe_exception(faults.EXCP_INVSTATE, pc, None)
        self._stop = StopInfo(kind, message, pc)

    @functools.cached_property
    def footprint(self) -> Footprint:
        """The ELF's static footprint per region (read only when memory is accounted)."""
        return footprint(self.firmware.path, self.board, self.firmware.symbols.addresses())

    @property
    def stop_info(self) -> StopInfo | None:
        """Why the run stopped, when not by the program's exit."""
        return self._stop

    @property
    def current_block(self) -> Block | None:
        return self._current

    @property
    def memory_tracker(self) -> MemoryTracker | None:
        return self._memory

    def hook_return(self, address: int, callback: object) -> None:
        """A code hook at a return address, added while running: drop the translated block
        there so that it is retranslated with the hook."""
        key = (address, callback)
        if key not in self._code_hooks:
            self._code_hooks[key] = self.uc.hook_add(UC_HOOK_CODE, callback, None,
                                                     begin=address, end=address)
            self.uc.ctl_remove_cache(address, address + 2)

    @property
    def tracker(self) -> CallTracker | None:
        """The call tracker when the simulation was created with profile=True."""
        return self._tracker

    def region_cycles(self, name: str) -> int | None:
        """Total cycles of a marker region, or None if it never completed."""
        for r in region_counts(self.region_events)[0]:
            if r.name == name:
                return r.cycles
        return None

    # -- memory access for tests and reports --------------------------------------------------
    def read_memory(self, address: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(address, size))

    def read_symbol(self, name: str) -> bytes:
        sym = self.firmware.symbols.get(name)
        if sym is None:
            raise KeyError(f"no symbol {name!r} in {self.firmware.path}")
        return self.read_memory(sym.address, sym.size)


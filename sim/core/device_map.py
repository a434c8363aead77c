"""The devices in the memory map: core peripherals and the console UART as MMIO, and the
timed read path of flash data; counter registers find the instruction that reads them. A
mixin of `Simulation`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from unicorn import Uc

from mcusim.base.errors import UsageError
from mcusim.memory.flash import FlashInterface
from mcusim.sim.core.access import locate
from mcusim.sim.core.translation import UC_REG
from mcusim.sim.devices import bitband
from mcusim.sim.devices.flash_data import FlashDataPath, PythonReader, flash_bytes
from mcusim.sim.devices.irq_source import ScheduledInterrupts
from mcusim.sim.devices.peripherals import (
    PPB_BASE,
    PPB_SIZE,
    TIMED_REGISTERS,
    CorePeripherals,
    PeripheralBus,
)

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation


class DeviceMap:
    def _map_peripherals(self: Simulation) -> None:
        self.core_peripherals = CorePeripherals(
            self.board.core, self.board, self.now, self._request_reset, self.unknown_accesses)
        self.peripheral_bus = PeripheralBus(self.board, self.stdout, self.unknown_accesses)
        self._add_interrupt_sources()
        self._mmio(PPB_BASE, PPB_SIZE, self.core_peripherals)
        aliases = self._bitband_aliases()
        bus = bitband.BitBandRouter(self.peripheral_bus, aliases) if aliases else None
        for p in self.board.peripherals:
            if not PPB_BASE <= p.base < PPB_BASE + PPB_SIZE:
                self._mmio(p.base, p.size, bus or self.peripheral_bus)
        self._map_bitband(aliases)

    def _bitband_aliases(self: Simulation) -> list[bitband.BitBandAlias]:
        """The bit-band alias windows of cores that have them (sim/devices/bitband.py)."""
        if not self.board.core.has_bitband:
            return []
        return [bitband.BitBandAlias(bitband.SRAM_ALIAS, bitband.SRAM_REGION,
                                     _UnicornBus(self.uc, self._log_backing_access)),
                bitband.BitBandAlias(bitband.PERIPHERAL_ALIAS, bitband.PERIPHERAL_REGION,
                                     self.peripheral_bus)]

    def _log_backing_access(self: Simulation, address: int, size: int, kind: int) -> None:
        """The SRAM access a bit-band alias access makes, into the RAM access log when it is
        recorded (the alias is MMIO, and the backing bytes are read and written outside the
        emulated bus, so no memory hook sees them)."""
        tracker = self.memory_tracker
        if tracker is None or not tracker.record:
            return
        if not any(r.contains(address, size) for r in tracker.recorded_regions()):
            return
        block = self.current_block
        cycle = self.cycles - (block.cycles if block is not None else 0)
        tracker.log_access(cycle, address, block.address if block is not None else 0, size,
                           kind)

    def _map_bitband(self: Simulation, aliases: list[bitband.BitBandAlias]) -> None:
        """The alias words of backing memory the board has (RAM, peripheral ranges), where no
        region or peripheral range of the board is mapped already (a peripheral range that
        holds an alias window answers it through BitBandRouter). The alias of memory the board
        lacks stays unmapped: an access there faults as it would on the bus."""
        if not aliases:
            return
        sram, peripherals = aliases
        board = self.board
        taken = [w for r in board.regions for w in r.windows()] + [
            (p.base, p.end) for p in board.peripherals]
        backed = [(sram, w) for r in board.regions if r.is_ram for w in r.windows()] + [
            (peripherals, (p.base, p.end)) for p in board.peripherals]
        for alias, (lo, hi) in backed:
            span = alias.alias_span(lo, hi)
            if span is None:
                continue
            for start, end in bitband.uncovered(span, taken):
                self._mmio(start, end - start, alias)
                taken.append((start, end))

    def _add_interrupt_sources(self: Simulation) -> None:
        """The board's periodic timers and --irq as a source of the exception state."""
        state = self.core_peripherals.exceptions
        entries = [(t.irq, t.first_cycle, t.period_cycles) for t in self.board.interrupt_timers]
        for i in self.options.interrupts:
            if i.irq >= state.irqs:
                raise UsageError(f"--irq {i.irq}@{i.cycle}: board {self.board.name} has "
                                 f"{state.irqs} IRQ lines (0 to {state.irqs - 1}; its SoC "
                                 "file's [nvic] irqs)")
            entries.append((i.irq, i.cycle, i.period))
        if entries:
            state.add_source(ScheduledInterrupts(state, entries))

    def _mmio(self: Simulation, base: int, size: int, device: bitband.Bus) -> None:
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

    def _on_timed_access(self: Simulation, uc: Uc, address: int) -> None:
        """Which instruction of the current block accesses `address`: found from the operands'
        registers (sim/core/access.py), it tells at which cycle of the block the access
        happens."""
        block = self._current
        if block is None:
            return
        # One execution of the block is identified by the instruction count at its entry.
        if self._access_key != self.instructions:
            self._access_key, self._access_next = self.instructions, 0
        idx = locate(block.insns, self._access_next, address,
                     lambda r: uc.reg_read(UC_REG[r]))
        if idx is not None:
            self._pc_hint = block.insns[idx].address
            self._pc_hint_is_access = True
            multi = block.insns[idx].cls in ("ldm", "stm", "ldrd", "strd", "vldm", "vstm")
            self._access_next = idx if multi else idx + 1

    def _add_flash_hooks(self: Simulation, uc: Uc) -> None:
        """Data reads from flash go through the timed read path (sim/devices/flash_data.py)."""
        self.flash_data = FlashDataPath(uc, self.flash) if self.flash else None
        for flash in self.flash:
            self.flash_data.map_python(flash, self._flash_reader(flash))  # type: ignore[union-attr]

    def _flash_reader(self: Simulation, flash: FlashInterface) -> PythonReader:
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

    def _flash_read_timer(self: Simulation, flash: FlashInterface) -> Callable[[int], None]:
        """Times a data read at an address of `flash`: its stall cycles are charged to the
        block running now."""
        return lambda address: self._add_cycles(flash.read(address))


class _UnicornBus:
    """SRAM behind the SRAM bit-band alias, read and written in the emulator's memory;
    `log(address, size, kind)` is told of each access (kind 0 read, 1 write)."""

    def __init__(self, uc: Uc, log: Callable[[int, int, int], None]):
        self._uc = uc
        self._log = log

    def read(self, addr: int, size: int) -> int:
        self._log(addr, size, 0)
        return int.from_bytes(self._uc.mem_read(addr, size), "little")

    def write(self, addr: int, size: int, value: int) -> None:
        self._log(addr, size, 1)
        self._uc.mem_write(addr, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))

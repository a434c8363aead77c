"""What GDB reads and writes: M-profile registers, memory, and the run's cycle count, all
answered without changing the run (no timed peripheral read, no unknown-access log entry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import unicorn.arm_const as arm
from unicorn import UcError

from mcusim.sim.devices.peripherals import CSR_COUNTFLAG, PPB_BASE, PPB_SIZE, SYST_CSR

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation

# GDB register numbers of our target description: r0-r12, sp, lr, pc, xpsr, then the run's
# counters (read-only, 64-bit): simulated cycles and instructions before the current one.
CORE_REGS = [getattr(arm, f"UC_ARM_REG_R{i}") for i in range(13)] + [
    arm.UC_ARM_REG_SP, arm.UC_ARM_REG_LR, arm.UC_ARM_REG_PC, arm.UC_ARM_REG_XPSR]
CYCLES_REG, INSTRUCTIONS_REG = 17, 18

TARGET_XML = """<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>arm</architecture>
  <feature name="org.gnu.gdb.arm.m-profile">
""" + "".join(f'    <reg name="r{i}" bitsize="32" regnum="{i}"/>\n' for i in range(13)) + """\
    <reg name="sp" bitsize="32" type="data_ptr" regnum="13"/>
    <reg name="lr" bitsize="32" regnum="14"/>
    <reg name="pc" bitsize="32" type="code_ptr" regnum="15"/>
    <reg name="xpsr" bitsize="32" regnum="16"/>
  </feature>
  <feature name="org.mcusim.counters">
    <reg name="cycles" bitsize="64" type="uint64" regnum="17" group="mcusim"/>
    <reg name="instructions" bitsize="64" type="uint64" regnum="18" group="mcusim"/>
  </feature>
</target>
"""


class DebugTarget:
    """The simulated core as GDB sees it while the run is stopped at `pc` (before the
    instruction there executes)."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        self.uc = sim.uc
        self.board = sim.board
        self.finished = False  # the run is over: the counters are its totals

    # -- counters -------------------------------------------------------------------------
    def counters(self, pc: int) -> tuple[int, int]:
        """(cycles, instructions) before the instruction at `pc`: the current block was
        charged whole when it was entered, so its part from `pc` on is taken off."""
        sim = self.sim
        cycles, count = sim.cycles, sim.instructions
        block = sim.current_block
        if self.finished:
            return cycles, count
        if block is not None and block.address <= pc < block.address + block.size:
            cycles += block.cycles_before(pc) - block.cycles
            count += block.count_before(pc) - block.count
        return cycles, count

    # -- registers ------------------------------------------------------------------------
    def read_register(self, n: int) -> bytes:
        if n < len(CORE_REGS):
            return (self.uc.reg_read(CORE_REGS[n]) & 0xFFFFFFFF).to_bytes(4, "little")
        if n in (CYCLES_REG, INSTRUCTIONS_REG):
            pc = self.uc.reg_read(arm.UC_ARM_REG_PC)
            return self.counters(pc)[n - CYCLES_REG].to_bytes(8, "little")
        raise KeyError(n)

    def write_register(self, n: int, value: bytes) -> None:
        """KeyError for a register GDB may not write: the counters are the run's, and moving
        the PC from inside a hook would end Unicorn's emulation behind the engine's back."""
        if n >= len(CORE_REGS):
            raise KeyError(n)
        new = int.from_bytes(value[:4], "little")
        if CORE_REGS[n] == arm.UC_ARM_REG_PC:
            if new & ~1 != self.uc.reg_read(arm.UC_ARM_REG_PC) & ~1:
                raise KeyError(n)
            return
        self.uc.reg_write(CORE_REGS[n], new)

    def all_registers(self) -> bytes:
        return b"".join(self.read_register(n) for n in range(len(CORE_REGS))) + b"".join(
            self.read_register(n) for n in (CYCLES_REG, INSTRUCTIONS_REG))

    # -- memory ---------------------------------------------------------------------------
    def _peripheral(self, address: int) -> str | None:
        if PPB_BASE <= address < PPB_BASE + PPB_SIZE:
            return "ppb"
        if any(p.base <= address < p.base + p.size for p in self.board.peripherals):
            return "bus"
        return None

    def _peek_word(self, word: int, kind: str) -> int:
        sim = self.sim
        if kind == "bus":
            bus = sim.peripheral_bus
            c = bus.console
            if c is not None and word == c.base + c.status:
                return c.status_value
            return bus.reset_values.get(word, 0)
        cp = sim.core_peripherals
        at = self.counters(self.uc.reg_read(arm.UC_ARM_REG_PC))[0]
        saved_now, logged = cp.now, dict(cp.log.addresses)
        cp.now = lambda: at  # the counters as an instruction at the stop would read them
        try:
            if word == SYST_CSR:  # a read by the program clears COUNTFLAG; a debugger's not
                _, wrapped = cp._systick_current()
                return cp.systick_csr | (CSR_COUNTFLAG if wrapped else 0)
            return cp._read_word(word)
        finally:
            cp.now = saved_now
            cp.log.addresses.clear()
            cp.log.addresses.update(logged)

    def read_memory(self, address: int, length: int) -> bytes | None:
        """The bytes, or None if some address is not mapped."""
        out = bytearray()
        a, end = address, address + length
        while a < end:
            kind = self._peripheral(a)
            if kind is None:
                n = min(end, (a | 0xFFF) + 1) - a  # page by page: stop at an unmapped page
                try:
                    out += self.uc.mem_read(a, n)
                except UcError:
                    return None if not out else bytes(out)
                a += n
                continue
            word = a & ~3
            value = self._peek_word(word, kind).to_bytes(4, "little")
            take = min(end, word + 4) - a
            out += value[a - word:a - word + take]
            a += take
        return bytes(out)

    def write_memory(self, address: int, data: bytes) -> bool:
        kind = self._peripheral(address)
        if kind == "bus" or (kind is None and self._peripheral(address + len(data) - 1)):
            return False
        if kind == "ppb":
            if address & 3 or len(data) != 4:
                return False
            cp = self.sim.core_peripherals
            at = self.counters(self.uc.reg_read(arm.UC_ARM_REG_PC))[0]
            saved_now = cp.now
            cp.now = lambda: at
            try:
                cp.write(address, 4, int.from_bytes(data, "little"))
            finally:
                cp.now = saved_now
            return True
        try:
            self.uc.mem_write(address, data)
        except UcError:
            return False
        # Code may have changed: let Unicorn translate it again.
        self.uc.ctl_remove_cache(address, address + len(data))
        return True

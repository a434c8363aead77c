"""The faults Unicorn does not raise itself, found by code hooks and taken as UsageFaults
(ARMv7-M ARM B3.2.15, A3.2.1 "Alignment support", A7.7.127 SDIV). A mixin of `Simulation`.

- LDRD, STRD, LDM, STM, LDREX and STREX need word-aligned addresses whatever CCR.UNALIGN_TRP
  says (UNALIGNED). Unicorn executes them unaligned, so each one whose base is not SP (SP is
  word-aligned by construction) or PC gets a code hook checking its base register's low bits
  before it runs. These hooks are placed before the run, like the operand-timed ones.
- Divide by zero with CCR.DIV_0_TRP (DIVBYZERO): hooks on the divides, added when software sets
  the bit (a CCR write) and dropped when it clears it: nothing is added while it is clear.
- Any unaligned halfword or word access with CCR.UNALIGN_TRP (UNALIGNED): while the bit is set
  (rare: a debugging aid), one code hook over all memory checks every load and store before it
  runs, from its decoded operands; that makes the run several times slower, only while set.
With `--fault-handlers=report` none of these hooks is added (today's behaviour: Unicorn runs
such accesses and divides as if the traps did not exist). The alignment checks run in C on the
native path; on nn_bench.elf (4.4M instructions, 136k checked executions) they add about 0.18 s
of emulation to 0.28 s (each hooked instruction costs Unicorn a helper call and an exit check).
A hook that finds the fault enters the handler at once (writing the PC in a code hook skips the
instruction), so these faults are precise, as on the hardware; ARMv6-M has none of them (its
unaligned accesses fault in Unicorn already: HardFault).
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

from unicorn import UC_HOOK_CODE, Uc
from unicorn.unicorn_py3 import unicorn as _uc_module

from mcusim.isa.arm_regs import PC, SP
from mcusim.sim.core import fault_status
from mcusim.sim.core.translation import UC_REG
from mcusim.sim.core.uc_api import add_hook
from mcusim.sim.devices.exc_numbers import (
    CCR_DIV_0_TRP,
    CCR_UNALIGN_TRP,
    CFSR_DIVBYZERO,
    CFSR_UNALIGNED,
)

if TYPE_CHECKING:
    import capstone

    from mcusim.sim.core.blocks import Block
    from mcusim.sim.core.engine import Simulation

ALWAYS_ALIGNED = ("ldm", "ldm_pc", "stm", "ldrd", "strd")
WORD_EXCLUSIVE = ("ldrex ", "strex ")
_TRAP_CLASSES = ("div", "ldrex", "strex", *ALWAYS_ALIGNED)  # what _trap_hooks looks at
NOT_CHECKED = (0, SP, PC)
_TRAP_FN = ctypes.CFUNCTYPE(None, ctypes.c_uint64)
_SIZES = {"b": 1, "sb": 1, "h": 2, "sh": 2, "d": 8, "": 4, "t": 4, "ex": 4, "exb": 1,
          "exh": 2, "bt": 1, "ht": 2, "sbt": 1, "sht": 2}


class FaultTraps:
    """Divide-by-zero and alignment traps; the state they use is Simulation's."""

    def _add_fault_traps(self: Simulation) -> None:
        """Before the run: watch CCR writes (ExceptionState) and check alignment on ARMv7-M."""
        self._divides: set[int] = set()
        self._div_hooks: list[int] = []
        self._divisors: dict[int, int] = {}  # divide address -> Unicorn id of its divisor
        self._unaligned_hook: int | None = None
        self._align_trap: object = None  # the C hook's callback (kept alive here)
        self._align_specs: list[int] = []
        self._access_shapes: dict[int, tuple[int, int, int, int, bool, int] | None] = {}
        self.instrument_blocks(self._trap_hooks)
        state = self._fault_state()
        watchers = getattr(state, "ccr_watchers", None)
        if watchers is not None:
            watchers.append(self._on_ccr_write)

    def _trap_hooks(self: Simulation, block: Block) -> list[tuple[int, object, object]]:
        """The alignment checks of a block's instructions (ARMv7-M), and its divides noted."""
        hooks: list[tuple[int, object, object]] = []
        if self.board.core.is_v6m or self.options.fault_handlers == "report":
            return hooks  # report: today's behaviour, no trap and no cost
        # By class, in one pass: a cached block's other instructions are never made.
        for i in block.of_classes(_TRAP_CLASSES):
            if i.cls == "div":
                self._divides.add(i.address)
            elif i.mem_base not in NOT_CHECKED and (
                    i.cls in ALWAYS_ALIGNED or i.text.startswith(WORD_EXCLUSIVE)):
                hooks.append((i.address, self._on_alignment_check, UC_REG[i.mem_base]))
        return hooks

    def _add_alignment_hook(self: Simulation, address: int, base: int) -> int:
        """The alignment check at `address` (BlockTranslation._add_code_hook routes it
        here): in C on the native path (sim/accounting/hotpath/align.c: a register read per
        execution, Python only when misaligned), a Python code hook otherwise."""
        lib = getattr(self, "_lib", None) if self.native else None
        if lib is None or not hasattr(lib, "hp_align_hook"):
            return self.uc.hook_add(UC_HOOK_CODE, self._on_alignment_check, base,
                                    begin=address, end=address)
        if self._align_trap is None:
            lib.hp_new_align.restype = ctypes.c_void_p
            lib.hp_new_align.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32]
            self._align_trap = _TRAP_FN(self._on_misaligned)
        reg_read = ctypes.cast(_uc_module.uclib.uc_reg_read, ctypes.c_void_p)
        spec = lib.hp_new_align(reg_read, ctypes.cast(self._align_trap, ctypes.c_void_p), base)
        if not spec:
            raise MemoryError("native hot path: out of memory")
        self._align_specs.append(spec)  # freed with the engine: there is one per instruction
        return add_hook(self.uc, UC_HOOK_CODE,
                        ctypes.cast(lib.hp_align_hook, ctypes.c_void_p).value, spec, address,
                        address)

    def _on_alignment_check(self: Simulation, uc: Uc, address: int, size: int,
                            base: int) -> None:
        if uc.reg_read(base) & 3:
            self._on_misaligned(address)

    def _on_misaligned(self: Simulation, address: int) -> None:
        try:
            self._trap(address, CFSR_UNALIGNED, "unaligned access: LDRD/STRD/LDM/STM and "
                       "exclusive accesses need a word-aligned address")
        except BaseException as e:  # noqa: BLE001 - re-raised after emu_start
            self._callback_error = e
            self.uc.emu_stop()

    def _trap(self: Simulation, pc: int, cfsr: int, what: str) -> None:
        block = self._current
        if block is not None:
            self._take_back(block, block.count_before(pc))
        where = self.firmware.symbols.describe(pc)
        kind = "memory_fault" if cfsr == CFSR_UNALIGNED else "escalated_fault"
        self._take_fault(fault_status.usage_fault(
            kind, f"{what} at {where} ({pc:#010x}) (UsageFault)", pc, cfsr))

    # -- CCR.DIV_0_TRP and CCR.UNALIGN_TRP ---------------------------------------------------
    def _on_ccr_write(self: Simulation, ccr: int) -> None:
        uc = self.uc
        if self.options.fault_handlers == "report":
            return
        if ccr & CCR_DIV_0_TRP and not self._div_hooks:
            self._div_hooks = [uc.hook_add(UC_HOOK_CODE, self._on_divide, None, begin=a, end=a)
                               for a in sorted(self._divides)]
            for a in self._divides:
                uc.ctl_remove_cache(a, a + 4)
        elif not ccr & CCR_DIV_0_TRP and self._div_hooks:
            for h in self._div_hooks:
                uc.hook_del(h)
            self._div_hooks = []
            for a in self._divides:
                uc.ctl_remove_cache(a, a + 4)
        if ccr & CCR_UNALIGN_TRP and self._unaligned_hook is None:
            self._unaligned_hook = uc.hook_add(UC_HOOK_CODE, self._on_any_access, None,
                                               begin=0, end=0xFFFFFFFF)
            uc.ctl_flush_tb()
        elif not ccr & CCR_UNALIGN_TRP and self._unaligned_hook is not None:
            uc.hook_del(self._unaligned_hook)
            self._unaligned_hook = None
            uc.ctl_flush_tb()

    def _on_divide(self: Simulation, uc: Uc, address: int, size: int, _: object) -> None:
        divisor = self._divisors.get(address)
        if divisor is None:
            insn = self._decoded(address)
            divisor = self._divisors[address] = (
                UC_REG[insn.operands[2].reg] if insn is not None and len(insn.operands) == 3
                else 0)
        if divisor and uc.reg_read(divisor) == 0:
            self._trap(address, CFSR_DIVBYZERO, "divide by zero with CCR.DIV_0_TRP set")

    def _on_any_access(self: Simulation, uc: Uc, address: int, size: int, _: object) -> None:
        shape = self._access_shapes.get(address, -1)
        if shape == -1:
            shape = self._access_shapes[address] = self._shape(address)
        if shape is None:
            return
        base, index, shift, disp, post, width = shape
        ea = uc.reg_read(UC_REG[base]) if base != PC else (address + 4) & ~3
        if index:
            ea += uc.reg_read(UC_REG[index]) << shift
        if not post:
            ea += disp
        if ea & (min(width, 4) - 1):
            self._trap(address, CFSR_UNALIGNED, f"unaligned {width}-byte access to "
                       f"{ea & 0xFFFFFFFF:#010x} with CCR.UNALIGN_TRP set")

    def _shape(self: Simulation, address: int) -> tuple[int, int, int, int, bool, int] | None:
        """(base, index, shift, displacement, post-indexed, access bytes) of the load or store
        at `address`, None if it is none (or makes byte accesses only)."""
        insn = self._decoded(address)
        if insn is None:
            return None
        name = insn.mnemonic.split(".")[0]
        if name[:3] not in ("ldr", "str") and name[:4] not in ("vldr", "vstr"):
            return None
        from capstone.arm_const import ARM_OP_MEM

        mem = next((op for op in insn.operands if op.type == ARM_OP_MEM), None)
        if mem is None:
            return None
        width = 4 if name[0] == "v" else _SIZES.get(name[3:], 4)
        if width == 1:
            return None
        return (mem.mem.base, mem.mem.index, mem.shift.value if mem.mem.index else 0,
                mem.mem.disp, bool(getattr(insn, "post_index", False)), width)

    def _decoded(self: Simulation, address: int) -> capstone.CsInsn | None:
        try:
            code = bytes(self.uc.mem_read(address, 4))
        except Exception:  # noqa: BLE001 - unreadable code: nothing to check
            return None
        # (capstone is loaded when an access is first checked, not at start-up)
        from mcusim.isa.capstone_classify import disassembler

        return next(disassembler().disasm(code, address, 1), None)

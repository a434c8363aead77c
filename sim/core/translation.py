"""New blocks: translated once (decoded and timed, sim/core/blocks.py) and instrumented with
the code hooks their instructions need. A mixin of `Simulation`."""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

import unicorn.arm_const as arm
from unicorn import UC_HOOK_CODE, Uc

from mcusim.base.errors import InputError
from mcusim.base.heap import keep_young
from mcusim.isa.arm_regs import CORE
from mcusim.isa.decode import DecodedSpan, decode_span
from mcusim.sim.core.blocks import Block, translate
from mcusim.sim.core.code_map import hook_blocks
from mcusim.sim.core.uc_api import MemoryReader

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation

# A code hook to add: (address, callback, user data).

# Unicorn 2.1 leaves stale IT-block state behind (xPSR shows IT bits at block entries) when the
# emulation restarts while RAM access hooks are present and a conditional store inside an IT
# block is hooked; a block looked up then runs as if inside an IT block (an unconditional
# `pop {..., pc}` is skipped). Refuse instead of computing something else.
_RESTART_WHILE_RECORDING = (
    "cannot record RAM accesses of this program: it runs code at {address:#010x} ({where}) "
    "that its ELF does not contain (written to RAM at run time, or different from the ELF's "
    "bytes there), and instrumenting that code while accesses are recorded makes Unicorn 2.1 "
    "execute IT blocks wrongly (the recorded run would not be the program's run). Run it "
    "without recording accesses (no `mcusim trace`, live-bytes analysis or `--live`)")
CodeHook = tuple[int, object, object]
MASK_WRITES = ("cps", "msr")  # instruction classes that can write PRIMASK/BASEPRI/FAULTMASK
_WAIT_AND_MASK = ("wfi", "nop", *MASK_WRITES)  # what _add_wanted_hooks looks at by class

# Capstone register ids -> Unicorn register ids, for reading operands of timed instructions.
UC_REG = {cs_id: getattr(arm, f"UC_ARM_REG_{n}") for n, cs_id in CORE.items()}


class BlockTranslation:
    def _translate(self: Simulation, address: int, size: int, key: int) -> Block:
        # The bytes as they are now (code in RAM may have been written by the program).
        code = self._code_reader.read(address, size) if size else b""
        function = self.firmware.symbols.function_at(address)
        flash = None
        for lo, hi, window in self._flash_windows:  # (a loop: a generator stopped early is
            if lo <= address < hi:  # finalized, about as costly as the rest of this method)
                flash = window
                break
        block = translate(code, address, self.timing, function.name if function else None,
                          flash, self._block_cache, self._span_at)
        self.blocks[key] = block
        why = self._endless(block)
        if why:
            # Nothing leaves "b ." for good: say so now instead of spinning until a limit.
            # The block does not run.
            where = self.firmware.symbols.describe(address)
            self._halt("limit", f"infinite loop: branch to itself at {where} "
                       f"({address:#010x}); {why}", address)
        else:
            self._instrument(block)
        keep_young()  # the block and its lists live to the end of the run (base/heap.py)
        return block

    def _function_id(self: Simulation, name: str) -> int:
        number = self._function_ids.get(name)
        if number is None:
            number = self._function_ids[name] = len(self._function_names)
            self._function_names.append(name)
        return number

    def _instrument(self: Simulation, block: Block) -> None:
        """Put code hooks on the instructions of a new block that need a look at registers as
        they run (operand-timed instructions; what observers ask for, such as run-time SP
        writes when tracking memory), then retranslate it: Unicorn only instruments blocks
        translated after a hook exists. The block has not run yet (its block hook runs
        first), so the run restarts at its address. Hooks in the ELF's code are all placed
        before the run (_place_hooks), so this restart only happens for code the ELF did not
        show (sim/core/code_map.py says why restarts are avoided)."""
        if self._add_wanted_hooks(block):
            tracker = self.memory_tracker
            if tracker is not None and tracker.record:
                raise InputError(_RESTART_WHILE_RECORDING.format(
                    address=block.address, where=self.firmware.symbols.describe(block.address)))
            self.restarts += 1
            self.uc.ctl_remove_cache(block.address, block.address + block.size)
            self._restart_at = block.address
            self.uc.emu_stop()

    def _place_hooks(self: Simulation) -> None:
        """Before the run: the code hooks of every instruction of the ELF's code (and what
        translating a block looks up: its bytes' reader, the flash windows)."""
        self._code_reader = MemoryReader(self.uc)
        self._flash_windows = [(lo, hi, f) for f in self.flash for lo, hi in f.region.windows()]
        spans = self.firmware.code
        self._spans = sorted(spans, key=lambda s: s.address)
        self._span_starts = [s.address for s in self._spans]
        for span in spans:
            # Code the start-up copies to RAM (.ramfunc, code in .data) is instrumented now
            # too, at its run address, from the ELF's bytes: instrumenting it when it first
            # runs would restart the emulation, and a restart with memory hooks present (what
            # record_accesses adds) changes what the firmware does (sim/core/code_map.py).
            for block in hook_blocks(span, self.timing, self._block_cache):
                self._add_wanted_hooks(block)

    def _span_at(self: Simulation, address: int) -> DecodedSpan | None:
        """The decoded ELF code span `address` may lie in (its bytes are checked by the
        span)."""
        starts: list[int] = getattr(self, "_span_starts", [])
        k = bisect_right(starts, address) - 1
        if k < 0 or address >= starts[k] + len(self._spans[k].code):
            return None
        span = self._spans[k]
        return decode_span(span.address, span.code)  # (once per process)

    def _add_wanted_hooks(self: Simulation, block: Block) -> bool:
        """Adds the code hooks `block` needs that are not there yet; whether any was."""
        wanted: list[CodeHook] = []
        by_address = {i.address: i for i in block.insns} if block.dynamic else {}
        for addr, rule in block.dynamic.items():
            regs = tuple(UC_REG[r] for r in by_address[addr].sources)
            # From the decoded instruction, not from memory: RAM code is instrumented before
            # the start-up has copied it there.
            signed = rule == "div" and by_address[addr].text.startswith("sdiv")
            wanted.append((addr, self._on_dynamic, (rule, regs, signed)))
        for instrument in self._instrumenters:
            wanted += instrument(block)
        # WFI/WFE wait; CPS/MSR may unmask a pending exception (the next block start looks);
        # SEV sets the event register. One pass over the block's instructions of those classes.
        for i in block.of_classes(_WAIT_AND_MASK):
            if i.cls == "wfi":
                wanted.append((i.address, self._on_wait, i.text.split(".")[0].upper()))
            elif i.cls in MASK_WRITES:
                wanted.append((i.address, self._on_mask_write, None))
            elif i.text.startswith("sev"):
                wanted.append((i.address, self._on_sev, None))
        added = False
        for addr, callback, data in wanted:
            key = (addr, callback)
            if key in self._code_hooks:
                continue
            self._code_hooks[key] = self._add_code_hook(addr, callback, data)
            added = True
        return added

    def _add_code_hook(self: Simulation, address: int, callback: object, data: object) -> int:
        if callback == self._on_alignment_check:  # FAULTS: in C on the native path
            return self._add_alignment_hook(address, data)  # type: ignore[arg-type]
        return self.uc.hook_add(UC_HOOK_CODE, callback, data, begin=address, end=address)

    def _on_dynamic(self: Simulation, uc: Uc, address: int, size: int,
                    spec: tuple[str, tuple[int, ...], bool]) -> None:
        rule, regs, signed = spec
        values = tuple(self._registers.read(r) for r in regs)
        if signed:
            values = tuple(abs(v - (1 << 32) if v & 0x80000000 else v) for v in values)
        self._add_cycles(self.timing.dynamic_cycles(rule, values))

    def _on_mask_write(self: Simulation, uc: Uc, address: int, size: int, _: object) -> None:
        self._exc_state.changed = True

    def _on_sev(self: Simulation, uc: Uc, address: int, size: int, _: object) -> None:
        self.exc_model.event_register = True  # SEV: the next WFE does not sleep

    def _endless(self: Simulation, block: Block) -> str | None:
        """Why a `b .` block never ends, or None if it can (in Thread mode, while an exception
        can still come and its handler end the run). In Handler mode the exception being
        handled never returns, whatever preempts it."""
        if not block.self_loop:
            return None
        state = self._exc_state
        current = self.uc.reg_read(arm.UC_ARM_REG_IPSR) & 0x1FF
        if current:
            return (f"the core is in Handler mode (exception {current}), which this loop "
                    "never leaves")
        if state.pending or state.next_event_cycle() is not None:
            return None
        return "nothing can interrupt it (no interrupt source is armed, no exception pending)"

    def hook_return(self: Simulation, address: int, callback: object) -> None:
        """A code hook at a return address, added while running: drop the translated block
        there so that it is retranslated with the hook."""
        key = (address, callback)
        if key not in self._code_hooks:
            self._code_hooks[key] = self.uc.hook_add(UC_HOOK_CODE, callback, None,
                                                     begin=address, end=address)
            self.uc.ctl_remove_cache(address, address + 2)

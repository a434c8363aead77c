"""The cycle-table timing model: per-core class costs plus the pipeline rules of the core's TRM
and published measurements (isa/cycles/README.md gives each rule's source)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from operator import attrgetter

from mcusim.isa import native_timing as flags
from mcusim.isa.block_timing import BlockTiming
from mcusim.isa.classify import ALWAYS, COND, PC, InsnInfo
from mcusim.isa.cycles import CycleTable
from mcusim.isa.m33_rules import (
    late_result_use,
    loaded_only_as_accumulator,
    pair_costs,
    two_stage_flags,
)
from mcusim.isa.operand_timing import divide_cycles, long_multiply_cycles

PC_WRITING = frozenset({"branch", "bl", "bx", "tbb", "ldm_pc", "ldr_pc", "alu_pc",
                        "branch_cond", "cbz"})
LIST_CLASSES = frozenset({"ldm", "stm", "ldm_pc", "vldm", "vstm"})
FP_ARITH = frozenset({"vfp_alu", "vfp_mac", "vfp_div", "vfp_sqrt"})
FP_LONG = frozenset({"vfp_div", "vfp_sqrt"})
MAC_CLASSES = frozenset({"mul", "mla", "mull", "mlal", "dsp", "dsp_long", "div"})
_CLASS = attrgetter("cls")

class TableTiming:
    """Static costs per block from the core's cycle table; dynamic costs per execution."""

    name = "table"

    def __init__(self, table: CycleTable, small_multiplier: bool = False):
        self.table = table
        self.small_multiplier = small_multiplier
        self.refill = table.branch_refill
        self.mispredict_penalty = table.mispredict_penalty
        # What a cached block's timing depends on besides the code (isa/block_cache.py).
        source = table.source.read_bytes() if table.source is not None else repr(table).encode()
        self.cache_key = (f"table {table.core} small_multiplier={small_multiplier} "
                          f"{hashlib.sha256(source).hexdigest()}")
        # The classes dynamic_rule gives a rule for (the rule is the class): hook placement
        # tests membership instead of calling dynamic_rule per instruction
        # (sim/core/code_map.py).
        self.dynamic_classes = frozenset(table.ranges)
        self._base_costs: dict[tuple[str, int, str | None], int] = {}
        # Cortex-M33 rules: any instruction may wait for its neighbours (load-use, late
        # results, flag-setting forms), so none is plain (_plain_cost_of).
        self._any_waits = bool(table.load_use_stall or table.two_stage_flags_extra
                               or table.late_result_stall)
        self._plain_cost = _PerClass(self._plain_cost_of)
        self._native = self._native_timer()

    def _native_timer(self) -> flags.NativeTimer | None:
        """The C copy of block_timing's Cortex-M3/M4 path (isa/native/block_timing.c) for a
        single-issue table with load/store pipelining and none of the Cortex-M33 rules; None
        on the other cores (their paths stay in Python) or without the extension."""
        t = self.table
        if (flags.NATIVE is None or t.issue_width != 1 or not t.load_store_pipelining
                or self._any_waits or t.pairs_16bit or t.fp_mac_shadow or t.paired_multiple):
            return None
        return flags.NATIVE.M3M4Timer(self._class_cost, self.refill, t.unaligned_target_extra,
                                      t.fp_result_stall, t.fp_div_overlap,
                                      t.writeback_load_chains, COND, ALWAYS, PC)

    def block_timing(self, block: list[InsnInfo]) -> BlockTiming:
        if self._native is not None:
            return BlockTiming(*self._native.timing(block))
        t = self.table
        if t.issue_width > 1:
            # Cortex-M7: when each instruction issues (isa/m7_issue.py) decides its cost.
            # (Imported here: a run on any other core does not need it.)
            from mcusim.isa.m7_issue import issue_costs

            cycles = issue_costs(block, [self._base(i) for i in block])
            ranges = t.ranges
            dynamic = {i.address: i.cls for i in block if i.cls in ranges}
            return BlockTiming(cycles, 0, 0, dynamic)
        dynamic: dict[int, str] = {}
        if not t.load_store_pipelining and not self._any_waits:
            # No rule changes a plain instruction's cost here (Cortex-M0/M0+): a block of
            # plain instructions costs what its classes cost, looked up in C.
            cycles = list(map(self._plain_cost.__getitem__, map(_CLASS, block)))
            if None not in cycles:
                return self._with_ends(block, cycles, dynamic)
        cycles = []
        # The table's switches, read once per block rather than once per instruction.
        pipelining = t.load_store_pipelining
        load_use_stall, load_use_alu = t.load_use_stall, t.load_use_alu
        fp_div_overlap, fp_result_stall = t.fp_div_overlap, t.fp_result_stall
        fp_mac_shadow, two_stage_extra = t.fp_mac_shadow, t.two_stage_flags_extra
        late_result_stall, ranges = t.late_result_stall, t.ranges
        plain_cost = self._plain_cost
        prev: InsnInfo | None = None
        prev_fp_arith = False  # whether prev is FP arithmetic (fp_result_stall)
        unaligned_run = 0
        fp_busy_until: int | None = None  # cycle in the block when a VDIV/VSQRT result is ready
        fp_issue_at = 0  # Cortex-M33: first cycle in the block an FP instruction may issue
        # Cycles before the current instruction, brought up to date only where a rule reads
        # it (FP instructions on cores with the VDIV overlap or the FP MAC shadow): the plain
        # path below does nothing it does not need.
        elapsed = counted = 0
        fp_elapsed = fp_div_overlap or bool(fp_mac_shadow)
        append = cycles.append
        memory_rule = self._m3m4_memory
        for insn in block:
            # Most instructions are "plain" (_plain_cost_of): only the M3/M4 load/store and
            # unaligned-run rules can change their cost, so the other rules are not tried
            # (after FP arithmetic they are: its result may be what this one reads).
            c = plain_cost[insn.cls]
            if c is not None and not prev_fp_arith:
                if pipelining:
                    if insn.mem_base or insn.load or insn.store or insn.mem_index:
                        c = memory_rule(insn, prev, c)
                    if insn.size == 4 and insn.address % 4 == 2:
                        unaligned_run += 1
                        if unaligned_run == 3:  # a run of unaligned 32-bit instructions: +1
                            c += 1
                    else:
                        unaligned_run = 0
                append(c)
                prev = insn
                continue
            cls = insn.cls
            if fp_elapsed and cls.startswith("v"):
                elapsed += sum(cycles[counted:])
                counted = len(cycles)
            c = self._base(insn)
            if pipelining:
                c = self._m3m4_memory(insn, prev, c)
                unaligned_run = unaligned_run + 1 if insn.wide and insn.address % 4 == 2 else 0
                if unaligned_run == 3:  # a run of unaligned 32-bit instructions: +1 once
                    c += 1
            if (load_use_stall and prev is not None and _uses_loaded(insn, prev, load_use_alu)
                    and not loaded_only_as_accumulator(insn, prev)):
                c += load_use_stall
            fp_wait = 0
            if fp_div_overlap and cls.startswith("v"):
                # Cortex-M4: integer instructions overlap a VDIV/VSQRT; the next FP instruction
                # waits for it to finish.
                if fp_busy_until is not None:
                    fp_wait = max(fp_busy_until - elapsed, 0)
                    fp_busy_until = None
                if cls in FP_LONG:
                    fp_busy_until = elapsed + fp_wait + c
                    c = 1
                c += fp_wait
            if fp_result_stall and not fp_wait and prev_fp_arith and _uses_fp_result(insn, prev):
                c += fp_result_stall
            if fp_mac_shadow and cls.startswith("v"):
                # Cortex-M33 (J33): no FP instruction issues in the cycles after an FP MAC.
                wait = max(fp_issue_at - elapsed, 0)
                c += wait
                if cls == "vfp_mac":
                    fp_issue_at = elapsed + wait + 1 + fp_mac_shadow
            if two_stage_extra and two_stage_flags(insn):
                c += two_stage_extra  # J33: MULS.N, flag-setting shifted constants
            if late_result_stall and prev is not None and late_result_use(insn, prev):
                c += late_result_stall  # J33: MAC, *XTA*, shifted-operand results
            if cls in ranges:
                dynamic[insn.address] = cls
            append(c)
            prev = insn
            prev_fp_arith = cls in FP_ARITH
        if fp_busy_until is not None and cycles:
            # The result is still pending when the block ends; charge the wait here, since the
            # next floating-point instruction is rarely far away in float code.
            cycles[-1] += max(fp_busy_until - sum(cycles), 0)
        return self._with_ends(block, cycles, dynamic)

    def _with_ends(self, block: list[InsnInfo], cycles: list[int],
                   dynamic: dict[int, str]) -> BlockTiming:
        """The block's timing, with what its last and first instructions add when it is
        left and entered by a taken branch."""
        t = self.table
        last = block[-1] if block else None
        taken_extra = self.refill if last is not None and last.branch == COND else 0
        if t.pairs_16bit:
            taken_extra = pair_costs(block, cycles, self.refill, taken_extra)
        first = block[0] if block else None
        entry_extra = (t.unaligned_target_extra
                       if first is not None and first.wide and first.address % 4 == 2 else 0)
        return BlockTiming(cycles, taken_extra, entry_extra, dynamic)

    def dynamic_rule(self, insn: InsnInfo) -> str | None:
        """The rule of an instruction timed per execution (what block_timing puts in
        `dynamic`), or None; it depends on the instruction alone."""
        return insn.cls if insn.cls in self.table.ranges else None

    def dynamic_cycles(self, rule: str, operands: tuple[int, ...]) -> int:
        """Cycles beyond the class's minimum (charged statically) for one execution."""
        lo, hi = self.table.ranges[rule]
        a, b = operands
        full = divide_cycles(a, b) if rule == "div" else long_multiply_cycles(a, b, lo, hi)
        return min(max(full, lo), hi) - lo

    def _base(self, insn: InsnInfo) -> int:
        key = (insn.cls, insn.nregs, insn.branch)
        cost = self._base_costs.get(key)
        if cost is None:
            cost = self._base_costs[key] = self._base_of(*key)
        return cost

    def _base_of(self, cls: str, nregs: int, branch: str | None) -> int:
        """What _base computes: it depends on the class, register count and branch kind."""
        t = self.table
        c = t.cost(cls)
        if cls in LIST_CLASSES:
            per = t.per_register.get(cls, 0)
            # Cortex-M7 moves two registers per cycle on its 64-bit path (the PC counts as one
            # of the registers moved; the TRMs' "+N" for the other cores leaves it out).
            moved = nregs + (cls == "ldm_pc")
            c += per * ((moved + 1) // 2 if t.paired_multiple else nregs)
        if cls == "mul" and self.small_multiplier:
            c = t.mul_small_cycles
        if branch == ALWAYS and cls in PC_WRITING:
            c += self.refill
        return c

    def _class_cost(self, cls: str) -> tuple[int, int, int]:
        """What the C timer needs of a class: _base_of(cls, 0, None), the cycles per listed
        register, and which of the sets above it is in (native_timing's flags)."""
        per = self.table.per_register.get(cls, 0) if cls in LIST_CLASSES else 0
        sets = ((self._plain_cost[cls] is not None, flags.PLAIN), (cls in LIST_CLASSES, flags.LIST),
                (cls in PC_WRITING, flags.PC_WRITING), (cls == "nop", flags.NOP),
                (cls.startswith("v"), flags.FP), (cls in self.table.ranges, flags.RANGED),
                (cls in FP_ARITH, flags.FP_ARITH), (cls in FP_LONG, flags.FP_LONG),
                (cls == "vfp_mac", flags.FP_MAC))
        return self._base_of(cls, 0, None), per, sum(bit for inside, bit in sets if inside)

    def _plain_cost_of(self, cls: str) -> int | None:
        """The cost of an instruction of class `cls` if the class is "plain", else None: its
        cost is the class's own, changed only by the M3/M4 load/store pipelining and
        unaligned-run rules (and by FP arithmetic just before it, which block_timing checks),
        so block_timing applies those two rules and tries no other."""
        t = self.table
        if self._any_waits:
            return None
        # Not plain: costs that depend on the register count or branch kind (_base_of), the
        # NOP a load absorbs, FP instructions (the VDIV overlap, the FP MAC shadow) and
        # operand-timed classes (timed per execution).
        if (cls in LIST_CLASSES or cls in PC_WRITING or cls == "nop" or cls.startswith("v")
                or cls in t.ranges):
            return None
        return self._base_of(cls, 0, None)

    def _m3m4_memory(self, insn: InsnInfo, prev: InsnInfo | None, cost: int) -> int:
        """Cortex-M3/M4 TRM 3.3.2 "Load/store timings" (README rules 1-4 and the measured
        refinements: a load absorbs a following NOP; which loads cannot pipeline)."""
        if prev is None:
            return 1 if insn.store and not insn.reg_offset else cost
        if insn.cls == "nop" and (prev.load or (prev.store and prev.reg_offset)):
            return 0
        # Whether prev writes a register the address is formed from (0: no register).
        base, index, written = insn.mem_base, insn.mem_index, prev.writes
        dependent = bool(base and base in written or index and index in written)
        if insn.store and not insn.reg_offset:
            cost = 1  # the write buffer completes it while the next instruction runs
        elif (insn.load or insn.store) and prev.load and not dependent and self._pipelines(
                insn, prev):
            cost = max(cost - 1, 1)  # pipelined with the preceding load
        if dependent and not prev.mem_base:
            cost += 1  # no forwarding from a data-processing result to address generation
        return cost

    def _pipelines(self, insn: InsnInfo, prev: InsnInfo) -> bool:
        """Whether a load or register-offset store may overlap the preceding load (README
        "Loads that do not pipeline")."""
        if insn.load and insn.mem_base == PC:
            return False  # TRM: a literal load "might add a cycle because of contention with
            # the fetch unit": its data phase needs the code bus the fetch is using
        if insn.load and insn.wide and insn.address % 4 == 2:
            return False  # T3-1 note b; J3/4: 32-bit loads at halfword addresses
        # J3/4, M3 only: base-update loads do not chain
        return self.table.writeback_load_chains or not (insn.load and (prev.writeback
                                                                       or insn.writeback))


class _PerClass(dict):
    """`of(cls)` for each class, computed the first time the class is looked up."""

    def __init__(self, of: Callable[[str], int | None]):
        super().__init__()
        self._of = of

    def __missing__(self, cls: str) -> int | None:
        value = self[cls] = self._of(cls)
        return value


def _uses_loaded(insn: InsnInfo, prev: InsnInfo, alu_consumers: bool) -> bool:
    """Whether `insn` must wait for the register `prev` just loaded (load-use latency).
    Store data does not wait; with `alu_consumers` False only address and multiply uses do."""
    if not (prev.load or prev.cls in ("ldm", "ldrd", "vldr")) or not prev.dest:
        return False
    loaded = prev.writes - ({prev.base} if prev.writeback else set())
    if insn.load or insn.store:
        return bool({insn.base, insn.index} & loaded)
    if not alu_consumers and insn.cls not in MAC_CLASSES:
        return False
    return bool(insn.reads & loaded)


def _uses_fp_result(insn: InsnInfo, prev: InsnInfo) -> bool:
    """Cortex-M4 FPU: an arithmetic result consumed by the next instruction costs one more
    cycle, except as the addend of a following multiply-accumulate."""
    if prev.cls not in FP_ARITH or not prev.dest or prev.dest not in insn.reads:
        return False
    return not (insn.cls == "vfp_mac" and insn.dest == prev.dest)

"""The C copy of the Cortex-M3/M4 block timing and of the flash's sequential stalls
(mcusim.isa._block_timing, isa/native/block_timing.c, flash_stalls.c) gives exactly what the
Python it repeats gives (isa/table_timing.py, memory/flash.py): for the blocks cut from the
kernels' code, for random instruction sequences that meet every rule, and for the stalls of
random blocks in every flash configuration of the bundled boards."""

from __future__ import annotations

import gc
import random
import weakref
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcusim.isa import decode, native_timing
from mcusim.isa.arm_regs import PC, R0, SP
from mcusim.isa.classify import ALWAYS, COND, InsnInfo
from mcusim.isa.cycles import available_tables, load_cycle_table
from mcusim.isa.table_timing import TableTiming
from mcusim.memory import flash as flash_module
from mcusim.memory.board import available_boards, load_board
from mcusim.memory.flash import FlashInterface
from mcusim.sim.core.code_map import code_spans

if native_timing.NATIVE is None:
    pytest.skip("the native block timing (mcusim.isa._block_timing) is not in use: not built "
                "(no C compiler at install time?) or MCUSIM_NATIVE=0", allow_module_level=True)

NATIVE_CORES = [core for core in available_tables()
                if TableTiming(load_cycle_table(core))._native is not None]


def _pair(core: str, small_multiplier: bool) -> tuple[TableTiming, TableTiming]:
    """The same table timed in C and in Python."""
    table = load_cycle_table(core)
    native, python = TableTiming(table, small_multiplier), TableTiming(table, small_multiplier)
    python._native = None
    return native, python


def test_the_m3_and_m4_tables_are_timed_in_c():
    assert {"cortex-m3", "cortex-m4"} <= set(NATIVE_CORES)
    # The other paths (the M0 map, M7 dual issue, the M33 rules) are not copied in C.
    assert not {"cortex-m0", "cortex-m7", "cortex-m33"} & set(NATIVE_CORES)


@pytest.fixture(scope="module")
def kernel_code(kernels: Path) -> list[list[InsnInfo]]:
    """The decoded code spans of a sample of the kernels' ELFs (every board's build)."""
    spans: dict[bytes, int] = {}
    for elf in sorted(kernels.rglob("*.elf"))[::4]:
        for s in code_spans(elf):
            spans.setdefault(s.code, s.address)
    return [decode.decode_span(address, code).insns for code, address in spans.items()]


def _blocks(insns: list[InsnInfo], rng: random.Random) -> list[list[InsnInfo]]:
    """The span cut into blocks after each branch, and at random points between."""
    out, start = [], 0
    for k, insn in enumerate(insns):
        if insn.branch is not None or rng.random() < 0.05 or k == len(insns) - 1:
            out.append(insns[start:k + 1])
            start = k + 1
    return out


@pytest.mark.parametrize("core", NATIVE_CORES)
@pytest.mark.parametrize("small_multiplier", [False, True])
def test_kernel_blocks_time_alike(kernel_code, core, small_multiplier):
    native, python = _pair(core, small_multiplier)
    rng = random.Random(core)
    count = 0
    for insns in kernel_code:
        for block in _blocks(insns, rng):
            assert native.block_timing(block) == python.block_timing(block), (core, block)
            count += 1
    assert count > 10000


# Random instruction sequences: every class of the tables (and one they lack), registers from a
# few so that neighbours depend on each other, every addressing form and branch kind.
REGS = (R0, R0 + 1, R0 + 2, SP, PC)
CLASSES = sorted({c for core in NATIVE_CORES for c in load_cycle_table(core).classes}
                 | {"isb", "unknown"})
# Half the classes drawn from those whose neighbours matter most, so that rare pairs (an FP
# result as a MAC's addend, a NOP after a load, a VDIV before FP) come up.
NEIGHBOURLY = ("vfp_alu", "vfp_mac", "vfp_div", "vfp_sqrt", "vldr", "ldr", "str", "nop")
_regs = st.sampled_from((0, *REGS))


def _fields(cls: str, size: int, nregs: int, reads: set[int], writes: set[int], dest: int,
            reads_dest: bool, flags: tuple[bool, ...], branch: str | None, mem_base: int,
            mem_index: int) -> tuple[int, dict]:
    load, store, reg_offset, writeback = flags
    if reads_dest:  # (a multiply-accumulate reads its destination: the FP MAC addend rule)
        reads = reads | {dest}
    return size, dict(cls=cls, nregs=nregs, reads=frozenset(reads), writes=frozenset(writes),
                      load=load, store=store, reg_offset=reg_offset, branch=branch, dest=dest,
                      writeback=writeback, mem_base=mem_base, mem_index=mem_index,
                      base=mem_base, index=mem_index)


_insn = st.builds(
    _fields, st.sampled_from(CLASSES) | st.sampled_from(NEIGHBOURLY), st.sampled_from((2, 4)),
    st.integers(0, 9), st.sets(st.sampled_from(REGS), max_size=3),
    st.sets(st.sampled_from(REGS), max_size=3), st.sampled_from((0, R0, R0 + 1)), st.booleans(),
    st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    st.sampled_from((None, COND, ALWAYS)), _regs, _regs)


def _sequence(start: int, parts: list[tuple[int, dict]]) -> list[InsnInfo]:
    """InsnInfos one after the other from `start` (a halfword address: both alignments)."""
    out, address = [], start
    for size, fields in parts:
        out.append(InsnInfo(address, size, fields["cls"], **fields))
        address += size
    return out


@pytest.mark.parametrize("core", NATIVE_CORES)
@given(start=st.integers(0x8000000 // 2, 0x8000100 // 2).map(lambda h: 2 * h),
       parts=st.lists(_insn, max_size=24), small_multiplier=st.booleans())
@settings(max_examples=300, deadline=None)
def test_random_sequences_time_alike(core, start, parts, small_multiplier):
    native, python = _pair(core, small_multiplier)
    block = _sequence(start, parts)
    assert native.block_timing(block) == python.block_timing(block)


def test_random_sequences_reach_every_rule():
    """The sequences above can hold what each rule looks at (so the comparison tries them):
    a NOP after a load, a load after a load, a dependent address, a literal load, writeback,
    FP arithmetic and a VDIV before an FP instruction, list classes, PC writes, ranges."""
    table = load_cycle_table("cortex-m4")
    classes = set(CLASSES)
    assert {"nop", "ldr", "str", "ldm", "ldm_pc", "vfp_div", "vfp_sqrt", "vfp_mac", "vfp_alu",
            "div", "branch", "bx", "vldm"} <= classes
    assert PC in REGS and table.ranges and table.fp_div_overlap and table.fp_result_stall


def test_classes_are_found_by_value():
    """The C timer finds a class by the string object first: a block read back from the block
    cache holds other objects of the same classes, and gets the same timing."""
    native, python = _pair("cortex-m4", False)
    block = [InsnInfo(0x8000002 + 2 * k, 2, "", cls, load=cls == "ldr", mem_base=R0)
             for k, cls in enumerate(("ldr", "ldr", "nop", "alu", "div", "ldr"))]
    copied = [i._replace(cls="".join(i.cls)) for i in block]
    assert [i.cls for i in copied] == [i.cls for i in block]
    assert all(a.cls is not b.cls for a, b in zip(block, copied, strict=True))
    assert native.block_timing(block) == native.block_timing(copied) == python.block_timing(block)
    assert native.block_timing(block).cycles[2] == 0  # (the NOP after a load)


def test_a_timing_model_is_freed():
    """The C timer and its TableTiming refer to each other: the collector frees both."""
    native, _ = _pair("cortex-m4", False)
    native.block_timing([InsnInfo(0x8000000, 2, "", "alu")])
    gone = weakref.ref(native)
    del native
    gc.collect()
    assert gone() is None


def test_bad_blocks_raise_as_python_does():
    native, _ = _pair("cortex-m4", False)
    with pytest.raises(TypeError):
        native.block_timing([("not", "an", "InsnInfo")])
    with pytest.raises(TypeError):
        native.block_timing(None)
    assert native.block_timing([]).cycles == []


def _flash_configurations():
    """Every flash region of every bundled board, at each wait-state count its clock steps
    give, with and without prefetch."""
    for board in available_boards():
        spec = load_board(board)
        for region in (r for r in spec.regions if r.kind == "flash"):
            steps = region.wait_state_steps_mhz or ()
            states = {region.wait_states(spec.clock_hz), 1,
                      *(region.wait_states(int(step * 1e6)) for step in steps)}
            for ws in sorted(states):
                for prefetch in (True, False):
                    yield board, region, spec.clock_hz, ws, prefetch


def _python_stalls(flash: FlashInterface, addresses: list[int], cycles: list[int],
                   monkeypatch: pytest.MonkeyPatch) -> list[int]:
    with monkeypatch.context() as m:
        m.setattr(flash_module, "NATIVE", None)
        return flash.sequential_stalls(addresses, cycles)


def test_stalls_alike_in_every_flash_configuration(monkeypatch):
    configurations = list(_flash_configurations())
    assert len({board for board, *_ in configurations}) >= 5
    rng = random.Random(22)
    for board, region, clock, ws, prefetch in configurations:
        flash = FlashInterface(region, clock)
        flash.ws, flash.prefetch, flash.fills_all = ws, prefetch, False
        for _ in range(60):
            lo, hi = rng.choice(list(region.windows()))
            address = lo + 2 * rng.randrange(max((hi - lo) // 2 - 4000, 1))
            addresses = []
            for _ in range(rng.choice((1, 2, 7, 40, 300))):
                addresses.append(address)
                address += rng.choice((2, 2, 4))
            if rng.random() < 0.2:  # (out of order: bisection on any list, as in Python)
                rest = addresses[1:]
                rng.shuffle(rest)
                addresses[1:] = rest
            cycles = [rng.choice((0, 1, 1, 1, 2, 3, 14)) for _ in addresses]
            assert (flash.sequential_stalls(addresses, cycles)
                    == _python_stalls(flash, addresses, cycles, monkeypatch)), (board, ws)


def test_stalls_of_unequal_lists_are_left_to_python(monkeypatch):
    spec = load_board("nucleo-f446re")
    (region,) = [r for r in spec.regions if r.kind == "flash"]
    flash = FlashInterface(region, spec.clock_hz)
    addresses = [region.base + 2 * k for k in range(40)]
    assert native_timing.NATIVE.sequential_stalls(addresses, [1] * 39, 0, 16, 5, True) is None
    cycles = [1] * 45  # (Python reads only the first len(addresses))
    assert (flash.sequential_stalls(addresses, cycles)
            == _python_stalls(flash, addresses, cycles, monkeypatch))


@pytest.mark.parametrize("board,kernel", [("nucleo-f446re", "conv3x3"),
                                          ("nucleo-f446re", "fpu_ctx"),
                                          ("nucleo-f103rb", "branchy")])
def test_whole_runs_count_alike(kernels, monkeypatch, board, kernel):
    """A run's cycles, flash stalls and profile are the same with the C timing and stalls as
    with the Python (no block cache: every block is timed in the run)."""
    from tests.conftest import simulate

    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "0")
    elf = kernels / board / f"{kernel}.elf"
    native = simulate(elf, board, profile=True).result
    with monkeypatch.context() as m:
        m.setattr(native_timing, "NATIVE", None)
        m.setattr(flash_module, "NATIVE", None)
        python = simulate(elf, board, profile=True).result
    assert native.cycles == python.cycles > 0
    assert native.flash == python.flash and native.functions == python.functions
    assert native.profile == python.profile
    if board == "nucleo-f446re":
        assert sum(f.fetch_stall_cycles for f in native.flash) > 0  # (the stalls are in it)

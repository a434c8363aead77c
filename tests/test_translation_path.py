"""What translating a new block reads and looks up: its bytes as they are in memory now, the
span it is cut from, the classes the engine's rules ask about, and the collector during a run."""

from __future__ import annotations

import gc

import pytest
from unicorn import UC_ARCH_ARM, UC_MODE_THUMB, Uc

from mcusim.base.heap import frozen_for_run
from mcusim.isa.cached_insns import CachedInsns
from mcusim.isa.decode import classify_block, decode_span
from mcusim.sim.core.blocks import Block
from mcusim.sim.core.uc_api import MemoryReader

from .asm import EXIT_OK, build
from .conftest import simulate

MOVS = bytes.fromhex("0120" "0221" "0322" "0423")  # movs r0, #1; movs r1, #2; ...


def test_the_reader_gives_what_memory_holds_now_at_any_size():
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.mem_map(0x20000000, 0x10000)
    reader = MemoryReader(uc, size=16)
    uc.mem_write(0x20000000, MOVS)
    assert reader.read(0x20000000, 8) == MOVS
    uc.mem_write(0x20000002, b"\x00\xbf")  # the buffer is reused: no stale bytes
    assert reader.read(0x20000000, 4) == MOVS[:2] + b"\x00\xbf"
    big = bytes(range(256)) * 40  # larger than the buffer: it grows
    uc.mem_write(0x20001000, big)
    assert reader.read(0x20001000, len(big)) == big
    assert reader.read(0x20000000, 2) == MOVS[:2]


@pytest.mark.parametrize("native", [False, None])
def test_code_written_to_ram_is_translated_from_its_current_bytes(tmp_path, native):
    elf = build(tmp_path, EXIT_OK)
    run = simulate(elf, "nucleo-f446re", native=native)
    sim = run.sim
    ram = 0x20001000
    sim.uc.mem_write(ram, MOVS)
    first = sim._translate(ram, 8, ram << 12 | 8)
    assert [i.text for i in first.insns] == [
        "movs r0, #1", "movs r1, #2", "movs r2, #3", "movs r3, #4"]
    sim.uc.mem_write(ram + 4, bytes.fromhex("4ff0 0505"))  # mov.w r5, #5 over the last two
    again = sim._translate(ram, 8, ram << 12 | 9)
    assert [i.text for i in again.insns] == ["movs r0, #1", "movs r1, #2", "mov.w r5, #5"]
    assert again.flash is None and first.flash is None  # RAM: no flash read path
    in_flash = sim._translate(sim.reset_vector & ~1, 2, 1)
    assert in_flash.flash is sim.flash[0] and in_flash.flash_lines


def test_a_block_across_an_undecodable_halfword_is_not_cut_from_the_span():
    code = bytes.fromhex("0120" "ffff" "0221" "0322")  # 0xffff: no instruction
    span = decode_span(0x1000, code)
    assert [i.address for i in span.insns] == [0x1000, 0x1004, 0x1006] and span.gaps == [1]
    assert span.block(0x1000, code) is None  # holds the gap
    assert span.block(0x1004, code[4:]) == span.insns[1:]  # starts after it
    assert span.block(0x1000, code[:2]) == span.insns[:1]  # ends before it
    assert span.block(0x1002, code[2:]) is None  # not on an instruction
    assert span.block(0x0FFE, b"\x00\xbf" + code) is None  # before the span
    cut = span.cut(0x1004, code[4:])
    assert cut is not None and cut[1] == [i.address for i in cut[0]] == [0x1004, 0x1006]


def test_a_block_gives_its_instructions_of_given_classes_in_order():
    code = bytes.fromhex("0120" "30bf" "0221" "62b6" "00bf")  # movs; wfi; movs; cpsie i; nop
    insns = classify_block(code, 0x400)
    block = Block(0x400, len(code), insns, [1] * len(insns), None)
    wanted = ("wfi", "nop", "cps")
    expected = [i for i in insns if i.cls in wanted]
    assert [i.cls for i in expected] == ["wfi", "cps", "nop"]
    assert block.of_classes(wanted) == expected
    assert block.of_classes(("div", "ldm")) == []
    cached = CachedInsns(0x400, [tuple(i)[1:] for i in insns])
    assert Block.for_hooks(cached, {}).of_classes(wanted) == expected


def test_objects_made_before_a_run_are_frozen_during_it_only(tmp_path):
    elf = build(tmp_path, EXIT_OK)
    seen: list[int] = []
    from mcusim.memory.board import load_board
    from mcusim.sim import Firmware, RunOptions, make_simulation

    sim = make_simulation(Firmware.open(elf), load_board("nucleo-f446re"), RunOptions())
    sim.instrument_blocks(lambda block: seen.append(gc.get_freeze_count()) or [])
    assert gc.get_freeze_count() == 0
    sim.run()
    assert seen and all(n > 0 for n in seen)  # blocks were translated while frozen
    assert gc.get_freeze_count() == 0


def test_an_outer_freeze_is_left_as_it_was():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with frozen_for_run():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        with frozen_for_run():
            assert gc.get_freeze_count() == 0  # collection off: nothing to spare it
    finally:
        gc.enable()


def test_a_block_adds_its_fetch_stalls_to_its_instructions_when_asked():
    insns = classify_block(MOVS[:6], 0x800)
    block = Block(0x800, 6, insns, [1, 2, 3], None, stalls=[0, 5, 0])
    assert block.cycles == 11
    assert block.cycles_before(0x802) == 1 and block.cycles_before(0x804) == 8
    assert block.insn_cycles == [1, 7, 3]
    plain = Block(0x800, 6, insns, [1, 2, 3], None)
    assert plain.cycles == 6 and plain.insn_cycles == [1, 2, 3]


@pytest.mark.parametrize("core", ["cortex-m0", "cortex-m0plus", "cortex-m3", "cortex-m4",
                                  "cortex-m7", "cortex-m33"])
def test_the_dynamic_classes_are_what_dynamic_rule_times(core):
    from mcusim.isa.classify import InsnInfo
    from mcusim.isa.cycles import load_cycle_table
    from mcusim.isa.table_timing import TableTiming

    timing = TableTiming(load_cycle_table(core))
    classes = {"alu", "ldr", "str", "mul", "mla", "mull", "mlal", "div", "dsp", "vfp_div",
               *timing.table.ranges}
    for cls in sorted(classes):
        insn = InsnInfo(0x100, 4, cls, cls)
        rule = cls if cls in timing.dynamic_classes else None
        assert timing.dynamic_rule(insn) == rule
    assert timing.dynamic_classes == frozenset(timing.table.ranges)

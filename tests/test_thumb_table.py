"""The table-driven Thumb classifier (isa/thumb_table.py) gives exactly what capstone with
operand details does (isa/classify.py), field by field, for every encoding it handles: every
16-bit halfword, random 32-bit encodings of the forms it knows, every instruction of the
kernels' ELFs and of the unrolled code `mcusim nn --approx` generates. Any difference fails,
so the cycle model's numbers cannot change."""

from __future__ import annotations

import collections
import random
import struct
from pathlib import Path

from mcusim.isa.capstone_classify import capstone_run
from mcusim.isa.thumb_it import classify_it_block
from mcusim.isa.thumb_table import classify_at
from mcusim.sim.core.code_map import code_spans

ROOT = Path(__file__).resolve().parent.parent


def _differences(code: bytes, address: int) -> list[str]:
    table = classify_at(code, 0, address)
    if table is None:
        return []
    reference = capstone_run(code, address)
    if not reference or reference[0].size != table.size:
        return [f"{code.hex()}: capstone does not decode it, the table says {table}"]
    ref = reference[0]
    return [f"{code.hex()} {ref.text!r}: {name} {mine!r} != {theirs!r}"
            for name, mine, theirs in zip(table._fields, table, ref, strict=True)
            if mine != theirs]


def test_every_16_bit_encoding_it_handles():
    handled, wrong = 0, []
    for hw in range(0x10000):
        if hw >> 11 in (0b11101, 0b11110, 0b11111):
            continue
        code = struct.pack("<H", hw)
        if classify_at(code, 0, 0x08001000) is not None:
            handled += 1
            wrong += _differences(code, 0x08001000)
    assert not wrong[:20]
    assert handled > 40000  # data processing, loads/stores, extends, branches


def test_random_32_bit_encodings_of_its_forms():
    rnd = random.Random(15)
    prefixes = [(0xF000, 0xF800), (0xEA00, 0xEC00), (0xFB00, 0xFB80), (0xF800, 0xFA00)]
    handled, wrong = 0, []
    for _ in range(12000):
        lo, hi = rnd.choice(prefixes)
        code = struct.pack("<HH", rnd.randrange(lo, hi), rnd.randrange(0x10000))
        address = rnd.randrange(0x08000000, 0x08100000, 2)
        if classify_at(code, 0, address) is not None:
            handled += 1
            wrong += _differences(code, address)
    assert not wrong[:20]
    assert handled > 2500  # (the rest: other forms, or registers such as SP and PC)


def test_literal_loads_push_pop_and_long_multiplies():
    rnd = random.Random(16)
    handled, wrong = 0, []
    for hw1 in (0xF8DF, 0xF85F, 0xF89F, 0xF81F, 0xF8BF, 0xF83F, 0xF99F, 0xF91F, 0xF9BF,
                0xF93F, 0xE92D, 0xE8BD, 0xFB80, 0xFBA0, 0xFBC0, 0xFBE0):
        for _ in range(300):
            code = struct.pack("<HH", hw1, rnd.randrange(0x10000))
            if classify_at(code, 0, 0x08002000) is not None:
                handled += 1
                wrong += _differences(code, 0x08002000)
    assert not wrong[:20]
    assert handled > 2000


def _program_instructions(elfs: list[Path]) -> dict[tuple[bytes, int], int]:
    """Distinct (encoding, address if the table gives it a target) of the ELFs' code outside
    IT blocks, with an address each is at; a sample of 3000 of those with a target."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    seen: dict[tuple[bytes, int], int] = {}
    targets: list[tuple[bytes, int]] = []
    kinds: dict[bytes, bool] = {}  # encoding -> whether the table gives it a target
    spans: dict[bytes, int] = {}  # the same code at other addresses only moves targets
    for elf in elfs:
        for s in code_spans(elf):
            spans.setdefault(s.code, s.address)
    for code, address in spans.items():
        offset, conditional = 0, 0
        while offset + 2 <= len(code):
            insns = list(md.disasm_lite(code[offset:], address + offset))
            if not insns:
                offset, conditional = offset + 2, 0
                continue
            for at, size, mnemonic, _ in insns:
                encoding = code[at - address:at - address + size]
                if conditional:
                    conditional -= 1  # never decoded by the table
                elif mnemonic.startswith("it") and encoding[1] == 0xBF:
                    conditional = 4 - ((encoding[0] & 0xF) & -(encoding[0] & 0xF)).bit_length() + 1
                else:
                    has_target = kinds.get(encoding)
                    if has_target is None:
                        info = classify_at(encoding, 0, at)
                        has_target = kinds[encoding] = info is not None and info.target is not None
                    if has_target:
                        targets.append((encoding, at))
                    else:
                        seen.setdefault((encoding, 0), at)
            offset = insns[-1][0] + insns[-1][1] - address
    for encoding, at in random.Random(1).sample(targets, min(3000, len(targets))):
        seen[(encoding, at)] = at
    return seen


def test_every_instruction_of_the_kernels_and_the_generated_nn_code(kernels, unrolled_nn_elf):
    elfs = sorted(kernels.rglob("*.elf")) + [unrolled_nn_elf]
    instructions = _program_instructions(elfs)
    handled, wrong = 0, []
    for (encoding, _), address in instructions.items():
        if classify_at(encoding, 0, address) is not None:
            handled += 1
            wrong += _differences(encoding, address)
    assert not wrong[:20]
    assert handled > len(instructions) / 3
    blocks, handled = _it_blocks(elfs), 0
    for code, address in blocks:
        block = classify_it_block(code, 0, address)
        if block is not None:
            handled += 1
            reference = capstone_run(code, address)
            assert [tuple(i) for i in block] == [tuple(i) for i in reference[:len(block)]]
    assert handled > len(blocks) / 3


def _it_blocks(elfs: list[Path]) -> set[tuple[bytes, int]]:
    """Every IT block of the ELFs' code (its bytes, to four 32-bit instructions after the IT,
    and address), as a linear decode meets them."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    blocks = set()
    for elf in elfs:
        for s in code_spans(elf):
            for at, _, mnemonic, _ in md.disasm_lite(s.code, s.address):
                offset = at - s.address
                if mnemonic.startswith("it") and s.code[offset + 1] == 0xBF:
                    blocks.add((s.code[offset:offset + 18], at))
    return blocks


def more_wide_forms(rnd: random.Random) -> dict:
    """Random encodings of each form of isa/thumb_wide_more.py (and of the long multiplies and
    register-offset loads and stores of isa/thumb_wide.py):
    its first halfwords with random second halfwords (most of them handled)."""
    return {
        "shift immediate": lambda: (rnd.choice((0xEA4F, 0xEA5F)), rnd.randrange(0x8000)),
        "shift register": lambda: (0xFA00 | rnd.randrange(0x80),
                                   0xF000 | rnd.randrange(0x1000) & 0xF0F | rnd.choice(
                                       (0, 0, 0, 0x10, 0x80))),
        "addw/subw": lambda: (rnd.choice((0xF200, 0xF2A0)) | rnd.randrange(2) << 10
                              | rnd.randrange(16), rnd.randrange(0x8000)),
        "ubfx/sbfx": lambda: (rnd.choice((0xF3C0, 0xF340)) | rnd.randrange(16),
                              rnd.randrange(0x8000)),
        "ldrd/strd": lambda: (0xE940 | rnd.randrange(0x100) & 0x9F, rnd.randrange(0x10000)),
        "long multiply": lambda: (0xFB80 | rnd.randrange(0x80),
                                  rnd.randrange(0x10000) & 0xFF0F | rnd.choice((0, 0, 0x60))),
        "register offset": lambda: (0xF800 | rnd.randrange(0x200) & 0x17F,
                                    rnd.randrange(0x10000) & 0xF03F),
        "writeback": lambda: (0xF800 | rnd.randrange(0x200) & 0x17F,
                              rnd.randrange(0x10000) | 0x0900),
        **dsp_and_memory_forms(rnd),
    }


def _register(rnd: random.Random, low: int = 13) -> int:
    """A register number, more often one of r0-r12 (SP and PC go to capstone mostly)."""
    return rnd.randrange(low) if rnd.random() < 0.8 else rnd.randrange(16)


def dsp_and_memory_forms(rnd: random.Random) -> dict:
    """Random encodings of each form of isa/thumb_dsp.py and isa/thumb_memory.py, and of the
    SP and PC operands isa/thumb_wide.py and thumb_wide_more.py take: their first halfwords
    with second halfwords of their shape (most of them handled)."""
    r = lambda: _register(rnd)  # noqa: E731
    return {
        "ssat/usat": lambda: (0xF300 | rnd.randrange(2) << 7 | rnd.randrange(2) << 5 | r(),
                              rnd.randrange(0x8000) & 0x70DF | r() << 8),
        "extends": lambda: (0xFA00 | rnd.randrange(6) << 4 | rnd.choice((15, r())),
                            0xF080 | r() << 8 | rnd.randrange(4) << 4 | r()),
        "parallel": lambda: (0xFA80 | rnd.randrange(7) << 4 | r(),
                             0xF000 | r() << 8 | rnd.randrange(7) << 4 | r()),
        "qadd/rev/sel/clz": lambda: (lambda m: (0xFA80 | rnd.randrange(4) << 4 | m,
                                                0xF080 | r() << 8 | rnd.randrange(4) << 4
                                                | rnd.choice((m, m, r()))))(r()),
        "sdiv/udiv": lambda: (0xFB90 | rnd.randrange(2) << 5 | r(), 0xF0F0 | r() << 8 | r()),
        "ldm/stm": lambda: (rnd.choice((0xE880, 0xE900)) | rnd.randrange(4) << 4 | r(),
                            rnd.randrange(0x10000) & rnd.choice((0x1FFF, 0x5FFF, 0x9FFF))),
        "pop/push": lambda: (rnd.choice((0xE8BD, 0xE92D)),
                             rnd.randrange(0x10000) & rnd.choice((0x1FFF, 0x5FFF, 0x9FFF))),
        "ldrd/strd writeback": lambda: (0xE860 | rnd.randrange(8) << 7 & 0x180
                                        | rnd.randrange(2) << 4 | rnd.choice((13, r())),
                                        r() << 12 | r() << 8 | rnd.randrange(256)),
        "pld": lambda: (rnd.choice((0xF890 | r(), 0xF810 | r(), 0xF89F, 0xF81F)),
                        0xF000 | rnd.choice((rnd.randrange(0x1000), 0xC00 | rnd.randrange(256),
                                             rnd.randrange(0x40)))),
        "sp arithmetic": lambda: (rnd.choice((0xF10D, 0xF1AD, 0xF20D, 0xF2AD, 0xF11D, 0xF1BD,
                                              0xF50D, 0xF5AD, 0xEB0D, 0xEBAD, 0xEB1D)),
                                  rnd.randrange(0x8000) & 0x70FF | rnd.choice((13, r())) << 8),
        "adr.w": lambda: (rnd.choice((0xF20F, 0xF2AF, 0xF60F, 0xF6AF)),
                          rnd.randrange(0x8000) & 0x70FF | r() << 8),
        "sp writeback": lambda: (rnd.choice((0xF85D, 0xF84D, 0xF83D, 0xF82D, 0xF81D)),
                                 r() << 12 | rnd.randrange(0x1000) | 0x0900),
        "tbb/tbh": lambda: (0xE8D0 | rnd.choice((15, r())), 0xF000 | rnd.randrange(2) << 4 | r()),
        "smmul/smmla/smmls": lambda: (0xFB00 | rnd.choice((5, 6)) << 4 | r(),
                                      rnd.choice((15, r())) << 12 | r() << 8
                                      | rnd.randrange(2) << 4 | r()),
        "mrs/msr": lambda: rnd.choice((
            (0xF3EF, 0x8000 | r() << 8 | rnd.randrange(22)),
            (0xF380 | r(), 0x8800 | rnd.randrange(22)))),
        "ldr pc, [sp], #4": lambda: (0xF85D, 0xFB00 | rnd.randrange(0x800)),
        "vldr/vstr": lambda: (0xED00 | rnd.randrange(8) << 4 & 0xD0 | rnd.choice((13, 15, r())),
                              rnd.randrange(0x10000) & 0xF1FF | 0x0A00),
        "vmov s": lambda: (0xEE00 | rnd.randrange(0x20), rnd.randrange(0x10000) & 0xF080 | 0x0A10),
        "vmov d": lambda: (0xEC40 | rnd.randrange(2) << 4 | r(),
                           r() << 12 | 0x0B10 | rnd.randrange(0x30) & 0x2F),
        "vldm/vstm/vpush/vpop": lambda: (lambda double: (
            rnd.choice((0xEC80 | rnd.randrange(4) << 4, 0xED20 | rnd.randrange(2) << 4))
            | rnd.randrange(2) << 6 | rnd.choice((13, 13, r())),
            rnd.randrange(16) << 12 | 0x0A00 | double << 8
            | rnd.randrange(1, rnd.choice((5, 17 if double else 33))) << double))(
                rnd.randrange(2)),
        "vadd/vmul/vmla/...": lambda: (0xEE00 | rnd.choice((0, 0x10, 0x20, 0x30, 0x80, 0x90,
                                                            0xA0)) | rnd.randrange(0x50) & 0x4F,
                                       rnd.randrange(0x10000) & 0xF1EF | 0x0A00),
        "vmov.f32/vcmp/vcvt/vsqrt/...": lambda: (
            0xEEB0 | rnd.randrange(2) << 6 | rnd.choice((0, 1, 4, 5, 8, 12, 13, rnd.randrange(16))),
            rnd.randrange(0x10000) & 0xF0FF | 0x0A00 | rnd.choice((0x40, 0x40, 0))),
        "vmrs/vmsr": lambda: (rnd.choice((0xEEE1, 0xEEF1)),
                              rnd.choice((13, 15, r())) << 12 | 0x0A10),
        "ldr pc": lambda: (rnd.choice((0xF8DF, 0xF85F, 0xF8D0 | r(), 0xF850 | r())),
                           0xF000 | rnd.choice((rnd.randrange(0x1000), 0xC00 | rnd.randrange(256),
                                                rnd.randrange(0x40)))),
    }


def test_adr_and_the_16_bit_sp_forms():
    """ADR and MOV/ADD with SP (every 16-bit encoding is checked against capstone above):
    handled, and what SP becomes (None: a run-time value) as capstone says."""
    infos = {hw: classify_at(struct.pack("<H", hw), 0, 0x08006000)
             for hw in (0xA10C, 0x469D, 0x4485, 0x446A, 0x44EA)}
    assert [i.text for i in infos.values()] == [
        "adr r1, #0x30", "mov sp, r3", "add sp, r0", "add r2, sp, r2", "add sl, sp, sl"]
    assert [i.sp_delta for i in infos.values()] == [0, None, None, 0, 0]
    assert sum(classify_at(struct.pack("<H", 0xA000 | n), 0, 0) is not None
               for n in range(0x800)) == 0x800


def test_random_encodings_of_the_shifts_bit_fields_addw_subw_and_dual_loads():
    """The forms of isa/thumb_wide_more.py (and UMULL/UMLAL, which thumb_wide.py missed
    before, and [Rn, Rm, LSL #n]): every field as capstone gives it."""
    for form, encoding in more_wide_forms(random.Random(17)).items():
        handled, wrong = 0, []
        for _ in range(1500):
            code = struct.pack("<HH", *encoding())
            if classify_at(code, 0, 0x08003000) is not None:
                handled += 1
                wrong += _differences(code, 0x08003000)
        assert not wrong[:20], form
        assert handled > 250, form  # (the rest: SP, PC, UNPREDICTABLE, other encodings)


def _random_it_block(rnd: random.Random) -> bytes:
    """An IT instruction (a random condition and mask) and four random encodings after it,
    16-bit ones or 32-bit ones of the forms the table handles."""
    wide = [(0xF000, 0xF800), (0xEA00, 0xEC00), (0xFB00, 0xFB80), (0xF800, 0xFA00),
            (0xFA00, 0xFA80), (0xE940, 0xEA00)]
    halfwords = [0xBF00 | rnd.randrange(14) << 4 | rnd.randrange(1, 16)]
    for _ in range(4):
        if rnd.random() < 0.6:
            hw = rnd.randrange(0xE800)
            halfwords.append(hw if hw & 0xFF00 != 0xBF00 else 0x4600)
        else:
            lo, hi = rnd.choice(wide)
            halfwords += [rnd.randrange(lo, hi), rnd.randrange(0x10000)]
    return struct.pack(f"<{len(halfwords)}H", *halfwords)


# Branches an IT block may end with: BX/BLX, POP {.., PC}, B, B.W, BL, LDR PC, [SP], #4,
# TBB/TBH, MOV/ADD PC, Rm, POP.W {.., PC}, each with random fields.
_BRANCHES = [lambda r: [0x4700 | r.randrange(16) << 3], lambda r: [0x4780 | r.randrange(15) << 3],
             lambda r: [0xBD00 | r.randrange(256)], lambda r: [0xE000 | r.randrange(0x800)],
             lambda r: [0xF000 | r.randrange(0x800), 0xB800 | r.randrange(0x800)],
             lambda r: [0xF000 | r.randrange(0x800), 0xF800 | r.randrange(0x800)],
             lambda r: [0xF85D, 0xFB04], lambda r: [0xE8D0 | r.randrange(16),
                                                   0xF000 | r.randrange(32)],
             lambda r: [0x4687 | r.randrange(16) << 3],
             lambda r: [0x4487 | r.randrange(16) << 3],
             lambda r: [0xE8BD, 0x8000 | r.randrange(0x2000)]]


def random_it_block_with_a_branch(rnd: random.Random) -> bytes:
    """An IT instruction, random 16-bit encodings and a branch as its last instruction."""
    mask = rnd.randrange(1, 16)
    halfwords = [0xBF00 | rnd.randrange(14) << 4 | mask]
    for _ in range(4 - (mask & -mask).bit_length()):
        hw = rnd.randrange(0xE800)
        halfwords.append(hw if hw & 0xFF00 != 0xBF00 else 0x4600)
    halfwords += rnd.choice(_BRANCHES)(rnd)
    return struct.pack(f"<{len(halfwords)}H", *halfwords)


def test_random_it_blocks_ending_with_a_branch():
    """A branch ends its IT block: conditional (COND, B becomes branch_cond), every field as
    capstone gives it."""
    rnd = random.Random(19)
    handled, wrong = 0, []
    for _ in range(3000):
        code = random_it_block_with_a_branch(rnd)
        block = classify_it_block(code, 0, 0x08004000)
        if block is None:
            continue
        handled += 1
        assert block[-1].branch == "cond"
        reference = capstone_run(code, 0x08004000)[:len(block)]
        for mine, ref in zip(block, reference, strict=True):
            wrong += [f"{code.hex()} {ref.text!r}: {name} {a!r} != {b!r}"
                      for name, a, b in zip(mine._fields, mine, ref, strict=True) if a != b]
    assert not wrong[:20]
    assert handled > 300


def forms_inside_it_blocks(rnd: random.Random) -> list[bytes]:
    """IT blocks of one to four random instructions of the 32-bit forms (more_wide_forms),
    one form per block, each at a random condition."""
    blocks = []
    for encoding in more_wide_forms(rnd).values():
        for _ in range(120):
            n = rnd.randrange(1, 5)
            mask = (rnd.randrange(8) << 1 | 1) << (4 - n) & 0xF
            blocks.append(struct.pack(f"<H{2 * n}H", 0xBF00 | rnd.randrange(14) << 4 | mask,
                                      *(h for _ in range(n) for h in encoding())))
    return blocks


def test_every_32_bit_form_inside_it_blocks():
    """Each 32-bit form (FP, MRS/MSR, DSP, loads and stores, ...) as the IT blocks
    (isa/thumb_it.py) make it conditional: every field of every instruction as capstone gives
    it."""
    handled, wrong = collections.Counter(), []
    for code in forms_inside_it_blocks(random.Random(20)):
        block = classify_it_block(code, 0, 0x08007000)
        if block is None:
            continue
        handled.update(i.cls for i in block[1:])
        reference = capstone_run(code, 0x08007000)[:len(block)]
        for mine, ref in zip(block, reference, strict=True):
            wrong += [f"{code.hex()} {ref.text!r}: {name} {a!r} != {b!r}"
                      for name, a, b in zip(mine._fields, mine, ref, strict=True) if a != b]
    assert not wrong[:20]
    assert {"vldr", "vmov_core2", "vldm", "vfp_mac", "mrs", "msr", "dsp", "ldm", "tbb"} <= set(
        handled)


def test_random_it_blocks():
    """The IT blocks the table classifier decodes (isa/thumb_it.py): the IT instruction and
    each conditional instruction as capstone gives them, every field."""
    rnd = random.Random(18)
    handled, wrong = 0, []
    for _ in range(6000):
        code = _random_it_block(rnd)
        block = classify_it_block(code, 0, 0x08004000)
        if block is None:
            continue
        handled += 1
        reference = capstone_run(code, 0x08004000)[:len(block)]
        for mine, ref in zip(block, reference, strict=True):
            wrong += [f"{code.hex()} {ref.text!r}: {name} {a!r} != {b!r}"
                      for name, a, b in zip(mine._fields, mine, ref, strict=True) if a != b]
    assert not wrong[:20]
    assert handled > 600  # (every one of its instructions handled: not that often)


def system_encodings() -> list[bytes]:
    """Every encoding of the forms of isa/thumb_system.py, and the 32-bit ones' neighbours:
    BKPT, the 16-bit hints, SVC, CPS, UDF; F3AF 8xxx (the 32-bit hints) and F3BF 8xxx (the
    barriers)."""
    narrow = ([0xBE00 | n for n in range(256)] + [0xBF00 | n << 4 for n in range(16)]
              + [0xDF00 | n for n in range(256)] + [0xB660 | n for n in range(32)]
              + [0xDE00 | n for n in range(256)])
    return [struct.pack("<H", hw) for hw in narrow] + [
        struct.pack("<HH", hw1, hw2) for hw1 in (0xF3AF, 0xF3BF) for hw2 in range(0x8000, 0x9000)]


def test_bkpt_svc_cps_hints_and_barriers():
    """What every firmware's last instruction (bkpt #0xab) and its start-up code need: every
    field as capstone gives it, and every encoding of these forms handled (but the CPS ones
    with bit 3 set and DSB #12, which capstone prints oddly)."""
    handled, wrong = 0, []
    for code in system_encodings():
        if classify_at(code, 0, 0x08005000) is not None:
            handled += 1
            wrong += _differences(code, 0x08005000)
    assert not wrong[:20]
    # 256 BKPT + 16 hints + 256 SVC + 16 CPS + 240 UDF (not 0xDEFx); 5 wide hints + 16 DMB
    # + 15 DSB + 16 ISB
    assert handled == 256 + 16 + 256 + 16 + 240 + 5 + 16 + 15 + 16
    assert classify_at(b"\xab\xbe", 0, 0x08005000).cls == "bkpt"
    assert classify_at(b"\x10\xbf", 0, 0).text == "yield"
    assert classify_at(b"\x18\xbf", 0, 0) is None  # IT NE: not a hint

"""Bit-band aliases (issue 13 item 6): on Cortex-M3/M4 each word of 0x22000000-0x23FFFFFF and
0x42000000-0x43FFFFFF is one bit of SRAM or of a peripheral register; other cores have none."""

from __future__ import annotations

import pytest

from mcusim.sim.devices.bitband import SRAM_ALIAS, SRAM_REGION, BitBandAlias, uncovered
from tests import asm
from tests.conftest import simulate

PATHS = {"python": {"native": False, "batched": False}, "native": {}}


class _Word:
    """A 32-bit backing word, to check the alias arithmetic without an emulator."""

    def __init__(self, value: int):
        self.value = value
        self.accesses: list[tuple[int, int]] = []

    def read(self, addr: int, size: int) -> int:
        self.accesses.append((addr, size))
        shift = 8 * (addr - SRAM_REGION)
        return (self.value >> shift) & ((1 << (8 * size)) - 1)

    def write(self, addr: int, size: int, value: int) -> None:
        shift = 8 * (addr - SRAM_REGION)
        mask = ((1 << (8 * size)) - 1) << shift
        self.value = (self.value & ~mask) | ((value << shift) & mask)


def _bit_word(addr: int, bit: int) -> int:
    return SRAM_ALIAS + (addr - SRAM_REGION) * 32 + bit * 4


@pytest.mark.parametrize("size", [1, 2, 4])
def test_alias_maps_each_word_to_one_bit_with_an_access_of_its_size(size):
    word = _Word(0xA5A5A5A5)
    alias = BitBandAlias(SRAM_ALIAS, SRAM_REGION, word)
    assert [alias.read(_bit_word(SRAM_REGION, b), size) for b in range(32)] == \
        [(0xA5A5A5A5 >> b) & 1 for b in range(32)]
    # The backing access has the alias access's size, at the backing address rounded down.
    assert {a for a in word.accesses} == {(SRAM_REGION + (b // 8) // size * size, size)
                                          for b in range(32)}
    alias.write(_bit_word(SRAM_REGION, 1), size, 0xFFFFFFFF)  # bit 0 of the value counts
    alias.write(_bit_word(SRAM_REGION, 31), size, 2)
    assert word.value == 0x25A5A5A7


def test_uncovered_cuts_what_is_mapped_already():
    assert list(uncovered((0, 100), [(10, 20), (50, 200)])) == [(0, 10), (20, 50)]
    assert list(uncovered((0, 100), [(0, 100)])) == []


def _expected_bitband_output() -> bytes:
    """What kernels_c/exc/bitband.c prints, computed here from the bit operations it does."""
    w0 = (1 << 0) | (1 << 31)
    lines = [f"set 0,31: {w0:08x}"]
    w0 |= (1 << 12) | (1 << 19)
    lines.append(f"set 12,19 (h,b): {w0:08x}")
    w0 &= ~1
    lines += [f"clear 0: {w0:08x}", "read back: a5a5a5a5"]
    w1 = 0xA5A5A5A5
    lines.append("read h/b: " + " ".join(str((w1 >> b) & 1) for b in range(4)))
    w1 ^= 0x55555555
    lines.append(f"toggle even: {w1:08x}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("board", ["mps2-an386", "nucleo-f446re", "nucleo-f103rb"])
def test_sram_bit_band_program(kernels, board, path):
    """The same output as QEMU's mps2-an386 (tests/test_reference_runs.py compares it there)
    on an M4 and an M3 board, with the same counts on both accounting paths."""
    run = simulate(kernels / board / "bitband.elf", board, **PATHS[path])
    assert run.result.stop == "exit", run.result.fault
    assert run.stdout == _expected_bitband_output()
    other = simulate(kernels / board / "bitband.elf", board,
                     **PATHS["native" if path == "python" else "python"])
    assert (other.result.cycles, other.result.instructions) == \
        (run.result.cycles, run.result.instructions)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_peripheral_alias_reads_register_bits(tmp_path, path):
    """RCC_CR of the STM32F446 (0x40023800) resets to 0x83: its bits read through the
    peripheral alias (inside the board's peripheral range 0x40000000-0x5FFFFFFF)."""
    elf = asm.build(tmp_path, """
        ldr r0, =0x42470000   @ bit word of RCC_CR bit 0
        movs r3, #0
        movs r2, #31
    loop:
        lsls r3, r3, #1
        lsls r4, r2, #2
        ldr r1, [r0, r4]
        orrs r3, r1
        subs r2, #1
        bpl loop
        ldr r0, =0x20000000
        str r3, [r0]
        ldrb r1, [r0, #0]
    """ + asm.EXIT_OK)
    run = simulate(elf, "nucleo-f446re", **PATHS[path])
    assert run.result.stop == "exit", run.result.fault
    assert run.sim.read_memory(0x20000000, 4) == (0x83).to_bytes(4, "little")


def test_peripheral_alias_write_is_a_read_modify_write_of_the_register(tmp_path):
    """On mps2-an386 (peripherals 0x40000000-0x4002FFFF, alias mapped by itself) setting bit 6
    of the console UART's DATA register through the alias writes 0x40 there: '@'."""
    elf = asm.build(tmp_path, """
        ldr r0, =0x42080018   @ UART0 DATA 0x40004000, bit 6
        movs r1, #1
        str r1, [r0]
    """ + asm.EXIT_OK, flash=0x0, ram=0x20000000)
    run = simulate(elf, "mps2-an386")
    assert run.result.stop == "exit", run.result.fault
    assert run.stdout == b"@"


@pytest.mark.parametrize("board,cpu", [("nucleo-g071rb", "cortex-m0plus"),
                                       ("nucleo-f746zg", "cortex-m7")])
def test_cores_without_bit_band_have_no_alias(tmp_path, board, cpu):
    elf = asm.build(tmp_path, """
        ldr r0, =0x22000000
        ldr r1, [r0]
    """ + asm.EXIT_OK, cpu=cpu)
    run = simulate(elf, board)
    assert run.result.stop == "memory_fault"
    assert "0x22000000" in run.result.fault.message


def test_alias_of_memory_the_board_lacks_faults(tmp_path):
    """nucleo-f103rb has 20 KiB of SRAM: the alias of 0x20005000 is not mapped."""
    elf = asm.build(tmp_path, """
        ldr r0, =0x220A0000
        ldr r1, [r0]
    """ + asm.EXIT_OK, cpu="cortex-m3")
    run = simulate(elf, "nucleo-f103rb")
    assert run.result.stop == "memory_fault"
    assert "0x220a0000" in run.result.fault.message.lower()


@pytest.mark.parametrize("path", sorted(PATHS))
def test_bit_band_with_memory_accounting(kernels, path):
    """Observing memory (with the RAM access log) changes nothing the program does, and the
    log holds the backing accesses of the alias accesses (a read, and a write for a store: the
    read-modify-write), at the backing address, never the alias one."""
    elf = kernels / "nucleo-f446re" / "bitband.elf"
    plain = simulate(elf, "nucleo-f446re", **PATHS[path])
    recorded = simulate(elf, "nucleo-f446re", record_accesses=True, **PATHS[path])
    assert recorded.stdout == plain.stdout == _expected_bitband_output()
    assert _counts(recorded) == _counts(plain)
    log = recorded.sim.memory_tracker.log
    assert not any(0x22000000 <= a < 0x24000000 for a in log.address)
    flags = recorded.sim.firmware.symbols.get("flags")
    assert flags is not None
    on_flags = [(a, s, k) for a, s, k in zip(log.address, log.size, log.kind, strict=True)
                if flags.address <= a < flags.address + 8]
    # bitband.c on flags: 6 alias stores (read + write each), 32 + 4 alias loads, 16 toggles
    # (an alias load, then a store: read + write); plus the start-up's 2 word writes of .data
    # and the program's own few direct loads. A word access's backing access is the word, a
    # halfword's the halfword, a byte's the byte.
    reads = [x for x in on_flags if x[2] == 0]
    writes = [x for x in on_flags if x[2] == 1]
    assert len(writes) == 6 + 16 + 2
    assert 6 + 36 + 32 <= len(reads) <= 6 + 36 + 32 + 8
    assert {s for _, s, _ in on_flags} == {1, 2, 4}


def _counts(run) -> tuple[int, int]:
    return run.result.cycles, run.result.instructions

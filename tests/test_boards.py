"""Boards are data: every bundled board loads with the figures its datasheet gives, and a
malformed board file is refused with the file, the field and what was expected."""

from __future__ import annotations

import pytest

from mcusim.base.errors import BoardError, ExitCode
from mcusim.memory.board import available_boards, load_board
from mcusim.sim.cli import main

K = 1024

# name: (core, clock MHz, flash bytes, RAM bytes incl. CCM/TCM)
EXPECTED = {
    "nucleo-f446re": ("cortex-m4", 180, 512 * K, 128 * K),
    "stm32f4-discovery": ("cortex-m4", 168, 1024 * K, 192 * K),
    "nucleo-l4r5zi": ("cortex-m4", 120, 2048 * K, 640 * K),
    "nucleo-f746zg": ("cortex-m7", 216, 1024 * K, 336 * K),
    "nrf52840-dk": ("cortex-m4", 64, 1024 * K, 256 * K),
    "nucleo-g071rb": ("cortex-m0plus", 64, 128 * K, 36 * K),
    "nucleo-f103rb": ("cortex-m3", 72, 128 * K, 20 * K),
    "nucleo-u575zi": ("cortex-m33", 160, 2048 * K, 784 * K),
    "mps2-an386": ("cortex-m4", 25, 0, 4096 * K + 16 * K + 4096 * K + 16384 * K),
    "mps2-an505": ("cortex-m33", 20, 0, 4096 * K + 32 * K + 4096 * K + 16384 * K),
}


def test_every_required_board_is_bundled():
    assert set(EXPECTED) <= set(available_boards())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_board_figures(name):
    core, mhz, flash, ram = EXPECTED[name]
    b = load_board(name)
    assert (b.core.name, b.clock_hz, b.flash_bytes, b.ram_bytes) == (core, mhz * 10**6, flash, ram)
    assert b.console is not None
    assert b.region_at(b.boot_address, 8) is not None


def test_board_specifics():
    f407 = load_board("stm32f4-discovery")
    assert f407.region_at(0x10000000).kind == "ccm"
    f7 = load_board("nucleo-f746zg")
    assert f7.region_at(0x20000000).kind == "dtcm" and f7.region_at(0x0).kind == "itcm"
    assert f7.region_at(0x00200000).name == "flash"  # the ITCM-bus alias of flash
    mps2 = load_board("mps2-an386")  # the QEMU machine's map
    assert mps2.region_at(0x00400000).name == "ssram1"
    assert mps2.region_at(0x21000000).name == "psram"
    an505 = load_board("mps2-an505")  # QEMU's map; Secure aliases have address bit 28 set
    assert an505.region_at(0x00000000).name == an505.region_at(0x10000000).name == "ssram1"
    assert an505.region_at(0x28000000).name == an505.region_at(0x38000000).name == "ssram23"
    assert load_board("nucleo-f446re").regions[0].wait_states(180_000_000) == 5
    assert load_board("nucleo-f446re", clock="16MHz").regions[0].wait_states(16_000_000) == 0
    u5 = load_board("nucleo-u575zi")  # RM0456 voltage range 1: +1 WS per 32 MHz
    assert [u5.regions[0].wait_states(mhz * 10**6) for mhz in (32, 33, 128, 160)] == [0, 1, 3, 4]
    assert u5.region_at(0x28000000).name == "sram4" and u5.region_at(0x0) is None
    assert u5.boot_address == 0x08000000 and u5.core.arch == "armv8-m.main"


def test_clock_override():
    assert load_board("nucleo-f446re", clock="16MHz").clock_hz == 16_000_000
    assert load_board("nucleo-f446re", clock="32.768kHz").clock_hz == 32768


def test_board_by_path_with_bundled_soc(tmp_path):
    f = tmp_path / "myboard.toml"
    f.write_text('[board]\nname = "my"\nsoc = "stm32f446re"\nclock = "84MHz"\n')
    b = load_board(str(f))
    assert b.name == "my" and b.clock_hz == 84_000_000 and b.console is None


def test_board_with_own_soc_file(tmp_path):
    (tmp_path / "chip.toml").write_text("""
[soc]
name = "CHIP"
core = "cortex-m3"
boot_address = 0x0
[[region]]
name = "rom"
kind = "flash"
base = 0x0
size = "64K"
[[region]]
name = "ram"
kind = "sram"
base = 0x20000000
size = "8K"
""")
    (tmp_path / "b.toml").write_text('[board]\nname = "b"\nsoc = "chip.toml"\nclock = 8000000\n')
    b = load_board(str(tmp_path / "b.toml"))
    assert b.core.name == "cortex-m3" and b.ram_bytes == 8 * K


BAD = {
    "missing_clock": ('[board]\nname = "x"\nsoc = "stm32f446re"\n',
                      "field 'board.clock' is missing: expected a clock frequency"),
    "bad_clock": ('[board]\nname = "x"\nsoc = "stm32f446re"\nclock = "fast"\n',
                  "field 'board.clock': expected a clock frequency"),
    "unknown_soc": ('[board]\nname = "x"\nsoc = "stm32zz"\nclock = "8MHz"\n',
                    "field 'board.soc': expected a bundled SoC"),
    "unknown_field": ('[board]\nname = "x"\nsoc = "stm32f446re"\nclock = "8MHz"\ncolour = 1\n',
                      "unknown field 'board.colour'"),
    "bad_console": ('[board]\nname = "x"\nsoc = "stm32f446re"\nclock = "8MHz"\n'
                    '[console]\nbase = "USART2"\ndata = 4\nstatus = 0\nstatus_value = 0\n',
                    "field 'console.base': expected the UART's base address, got 'USART2'"),
    "bad_region_kind": ('[board]\nname = "x"\nsoc = "stm32f446re"\nclock = "8MHz"\n'
                        '[[region]]\nname = "ext"\nkind = "dram"\nbase = 0x60000000\n'
                        'size = "1M"\n',
                        "field 'region[0].kind': expected one of flash"),
    "overlap": ('[board]\nname = "x"\nsoc = "stm32f446re"\nclock = "8MHz"\n'
                '[[region]]\nname = "extra"\nkind = "sram"\nbase = 0x20010000\nsize = "64K"\n',
                "overlaps"),
    "unaligned": ('[board]\nname = "x"\nsoc = "stm32f446re"\nclock = "8MHz"\n'
                  '[[region]]\nname = "odd"\nkind = "sram"\nbase = 0x60000000\nsize = 1000\n',
                  "not aligned to 4 KiB"),
    "not_toml": ("[board\nname=", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_board_file(case, tmp_path, capsys):
    text, message = BAD[case]
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(BoardError) as e:
        load_board(str(f))
    assert str(f) in str(e.value)
    assert message in str(e.value)
    rc = main(["run", "whatever.elf", "--board", str(f)])
    err = capsys.readouterr().err
    assert rc == ExitCode.BAD_INPUT and "Traceback" not in err and message in " ".join(err.split())


def test_boards_command_lists_every_board(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert name in out
    assert "180 MHz" in out and "512 KiB" in out


@pytest.mark.parametrize(("size", "text"), [
    (512 << 10, "512 KiB"), (2 << 20, "2 MiB"), ((24 << 20) + (16 << 10), "24 MiB + 16 KiB"),
    (1000, "1000 B"), ((1 << 20) + 3, "1048579 B")])
def test_sizes_read_as_a_datasheet_gives_them(size, text):
    from mcusim.base.units import format_size

    assert format_size(size) == text


def test_boards_table_gives_the_mps2_ram_in_mib(capsys):
    assert main(["boards"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "mps2-an386" in line)
    # 16 KiB block RAM + 4 MiB + 16 MiB SSRAM/PSRAM; the 4 MiB code RAM is in the flash
    # column, not counted again as RAM.
    assert "20 MiB + 16 KiB" in row and "20496 KiB" not in row and "4 MiB code RAM" in row

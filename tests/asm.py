"""Tiny bare-metal ELFs assembled from a few lines of Thumb, for fault and peripheral tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

LINKER_SCRIPT = """
MEMORY {{
  FLASH (rx) : ORIGIN = {flash:#x}, LENGTH = 64K
  RAM (rwx)  : ORIGIN = {ram:#x}, LENGTH = 16K
}}
SECTIONS {{
  .isr_vector : {{ KEEP(*(.isr_vector)) }} > FLASH
  .text : {{ *(.text*) *(.rodata*) }} > FLASH
  .data : {{ *(.data*) }} > RAM AT > FLASH
  .bss (NOLOAD) : {{ *(.bss*) }} > RAM
}}
"""

PRELUDE = """
    .syntax unified
    .cpu {cpu}
    .thumb
    .section .isr_vector, "a"
    .word {stack:#x}
    .word reset
    .text
    .thumb_func
    .global reset
reset:
"""

# Semihosting exit with status 0 (SYS_EXIT, ADP_Stopped_ApplicationExit).
EXIT_OK = """
    movs r0, #0x18
    ldr r1, =0x20026
    bkpt 0xab
"""


def build(tmp_path: Path, body: str, *, name: str = "t", cpu: str = "cortex-m4",
          flash: int = 0x08000000, ram: int = 0x20000000, extra_flags: tuple[str, ...] = (),
          vector: bool = True) -> Path:
    src = tmp_path / f"{name}.s"
    ld = tmp_path / f"{name}.ld"
    elf = tmp_path / f"{name}.elf"
    prelude = PRELUDE.format(cpu=cpu, stack=ram + 0x4000)
    if not vector:
        prelude = prelude.replace('.section .isr_vector, "a"', ".text")
    src.write_text(prelude + body + "\n    .pool\n")
    ld.write_text(LINKER_SCRIPT.format(flash=flash, ram=ram))
    subprocess.run(["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", "-nostdlib",
                    "-nostartfiles", "-T", str(ld), *extra_flags, str(src), "-o", str(elf)],
                   check=True, capture_output=True)
    return elf

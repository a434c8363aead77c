"""First-execution speed: host time per distinct instruction the first time it runs.

    python bench/first_exec.py [--instructions N] [--board B]

Generates an ELF of N (default 100 000) distinct straight-line Thumb instructions (a mix of
16- and 32-bit data processing, multiplies, loads and stores, each run once) with the
assembler, then runs it in fresh processes, so nothing is cached in memory: bare Unicorn (no
hooks: its own translation is the floor), and mcusim's cycle model cold (no persistent cache:
every block decoded and timed), filling the persistent block cache, and warm (every block's
decoding and timing read from the cache). Prints microseconds per instruction of each and the
cold/warm ratio, all from one run; every model run must count the same cycles.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LINKER_SCRIPT = """
MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 2048K
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 128K }
SECTIONS { .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
           .text : { *(.text*) } > FLASH }
"""

# Each line: a template using registers r0-r6 freely and r7 as a RAM base (never written).
PATTERNS = [
    "adds r{a}, r{b}, #{i3}", "eors r{a}, r{b}", "lsls r{a}, r{b}, #{i5}", "subs r{a}, #{i8}",
    "add.w r{a}, r{b}, r{c}, lsl #{i5}", "eor.w r{a}, r{b}, #{i8}", "mul r{a}, r{b}, r{c}",
    "mla r{a}, r{b}, r{c}, r{d}", "ldr r{a}, [r7, #{w}]", "str r{a}, [r7, #{w}]",
    "ldrb.w r{a}, [r7, #{b8}]", "uxtb r{a}, r{b}", "movw r{a}, #{i16}",
    "smlabb r{a}, r{b}, r{c}, r{d}",
    "orr.w r{a}, r{b}, r{c}", "rev r{a}, r{b}", "cmp r{a}, r{b}", "mvns r{a}, r{b}",
]


def program(n: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    lines = [".syntax unified", ".cpu cortex-m4", ".thumb",
             '.section .isr_vector, "a"', ".word 0x20020000", ".word reset",
             ".text", ".thumb_func", ".global reset", "reset:",
             "    ldr r7, =0x20000000"]
    for k in range(n):
        regs = rnd.sample(range(7), 4)
        lines.append("    " + rnd.choice(PATTERNS).format(
            a=regs[0], b=regs[1], c=regs[2], d=regs[3], i3=rnd.randrange(8),
            i5=rnd.randrange(1, 32), i8=rnd.randrange(256), w=4 * rnd.randrange(64),
            b8=rnd.randrange(256), i16=rnd.randrange(65536)))
        if k % 1000 == 999:
            lines += ["    b 1f", "    .ltorg", "1:"]
    lines += ["    movs r0, #0x18", "    ldr r1, =0x20026", "    bkpt 0xab", "    .ltorg"]
    return "\n".join(lines) + "\n"


def build(n: int, where: Path) -> Path:
    src, ld, elf = where / "first_exec.s", where / "first_exec.ld", where / "first_exec.elf"
    src.write_text(program(n))
    ld.write_text(LINKER_SCRIPT)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib",
                    "-nostartfiles", "-T", str(ld), str(src), "-o", str(elf)], check=True)
    return elf


RUN_ONE = """
import io, json, sys, time
from mcusim import Firmware, ProgramIO, RunOptions, load_board, make_simulation
from mcusim.isa.timing import NaiveTiming
elf, board, bare = sys.argv[1], sys.argv[2], sys.argv[3] == "bare"
io_ = ProgramIO(stdout=io.BytesIO(), stderr=io.BytesIO())
sim = make_simulation(Firmware.open(elf), load_board(board),
                      RunOptions(io=io_, native=False if bare else None),
                      timing=NaiveTiming() if bare else None)
if bare:
    sim.remove_block_hook()  # Unicorn alone: its own translation is the floor
start = time.perf_counter()
result = sim.run()
print(json.dumps({"seconds": time.perf_counter() - start, "instructions": result.instructions,
                  "cycles": result.cycles, "stop": result.stop}))
"""


def run(elf: Path, board: str, env: dict[str, str], bare: bool = False) -> dict:
    proc = subprocess.run([sys.executable, "-c", RUN_ONE, str(elf), board,
                           "bare" if bare else "model"], env=env,
                          capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout)
    if out["stop"] != "exit":
        sys.exit(f"bench: the generated program did not exit cleanly ({out['stop']})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instructions", type=int, default=100_000)
    ap.add_argument("--board", default="nucleo-f446re")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        t0 = time.perf_counter()
        elf = build(args.instructions, where)
        print(f"built {args.instructions} distinct instructions in "
              f"{time.perf_counter() - t0:.1f} s: {elf.stat().st_size // 1024} KiB ELF")
        env = dict(os.environ, MCUSIM_CACHE_DIR=str(where / "cache"))
        bare = run(elf, args.board, dict(env, MCUSIM_BLOCK_CACHE="0"), bare=True)
        cold = run(elf, args.board, dict(env, MCUSIM_BLOCK_CACHE="0"))
        fill = run(elf, args.board, env)
        warm = run(elf, args.board, env)
        n = cold["instructions"]
        if not cold["cycles"] == fill["cycles"] == warm["cycles"]:
            sys.exit("bench: the cached runs count other cycles than the cold one")
        for name, r in (("bare Unicorn (no model)", bare),
                        ("cold (no persistent cache)", cold), ("filling the cache", fill),
                        ("warm (persistent cache)", warm)):
            print(f"{name:28} {r['seconds']:7.3f} s  {1e6 * r['seconds'] / n:7.2f} us/instruction")
        print(f"cold / warm: {cold['seconds'] / warm['seconds']:.1f}x; "
              f"{n} instructions, {cold['cycles']} cycles")


if __name__ == "__main__":
    main()

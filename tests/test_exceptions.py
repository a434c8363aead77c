"""Exceptions and interrupts end to end (issue 13): the kernels_c/exc programs (kernels_c/exc/
README.md) behave under mcusim as the architecture says and as QEMU's mps2-an386 runs them.

The expected text of each program is written here from what the program does (its comment
and the ARMv6-M/ARMv7-M rules it checks), not copied from a run; QEMU confirms it on
mps2-an386 (test_qemu_prints_the_expected_text), mcusim must print it on every board.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from mcusim.isa.cycles import load_cycle_table
from mcusim.sim.accounting import native_lib
from tests.conftest import BUILD, ROOT, simulate

PROGRAMS = ["systick_count", "rtos2task", "nested", "wfi", "fpu_ctx"]
# Board -> architecture variant of the expected text.
BOARDS = {"mps2-an386": "v7m-fp", "nucleo-f446re": "v7m-fp", "nucleo-f746zg": "v7m-fp",
          "nucleo-f103rb": "v7m", "nucleo-g071rb": "v6m"}
# QEMU-only builds (kernels_c/exc/exc-qemu.mk) for the other cores of QEMU's MPS2 machines.
QEMU_CORES = {"mps2-an385": "v7m", "mps2-an500": "v7m-fp"}   # Cortex-M3, Cortex-M7
FPU_PROGRAMS = {"fpu_ctx"}
# Generous: the longest program runs about 1M instructions; a broken model must not hang CI.
MAX_INSTRUCTIONS = 20_000_000

SYSTICK_PERIOD = 2000   # exc/systick_count.c PERIOD
WFI_PERIOD = 50000      # exc/wfi.c PERIOD


def _rtos2task() -> str:
    lines = ["rtos2task: starting 2 tasks, 4 steps each"]
    for step in range(4):
        # svc 1 returns r0 * 100 + r1 with r0 = id + 1, r1 = 10 * id + step.
        lines.append(f"task A step {step}: svc 1 -> {100 + step}, thread mode on PSP")
        lines.append(f"task B step {step}: svc 1 -> {200 + 10 + step}, thread mode on PSP")
    lines.append("rtos2task: 8 steps, 8 system calls, 0 registers lost, 0 bad modes")
    return "\n".join(lines) + "\n"


# Implemented NVIC priority bits, as nested.c finds them (FreeRTOS's probe: 0xFF into IRQ0's
# priority byte): STM32F4/F7/F1 reference manuals "16 programmable priority levels (4 bits)",
# STM32G0 RM0444 "4 priority levels"; QEMU's MPS2 NVIC keeps all 8 bits (mcusim's mps2-an386
# board the same, so that it runs as QEMU does).
PRIORITY_BITS = {"mps2-an386": 8, "mps2-an385": 8, "mps2-an500": 8, "nucleo-f446re": 4,
                 "nucleo-f746zg": 4, "nucleo-f103rb": 4, "nucleo-g071rb": 2}


def _nested(arch: str, board: str) -> str:
    v6m = arch == "v6m"
    lines = [f"nested priority bits: {PRIORITY_BITS[board]}",
             "nested preempt: 0< 1< 2< S< S> 2> 1> 3< 3> 0> ok",
             "nested in IRQ2: vectactive 18 ok" if v6m
             else "nested in IRQ2: vectactive 18, active 0 1 2 ok",
             "nested primask: N< N> | 2< 2> 0< 0> ok",
             "nested basepri: skipped (ARMv6-M)" if v6m else "nested basepri: 2< 2> | 0< 0> ok",
             "nested tie: 4< 4> 5< 5> P< P> ok"]
    if v6m:
        lines.append("nested prigroup: skipped (ARMv6-M)")
    else:
        lines += ["nested prigroup 0: 6< 7< 7> 6> ok", "nested prigroup 5: 6< 6> 7< 7> ok"]
    lines += ["nested vtor in RAM: R< R> 0< 0> ok", "nested: 0 wrong"]
    return "\n".join(lines) + "\n"


def expected_text(prog: str, board: str) -> str:
    """What `prog` prints on `board` (or QEMU machine), with every `cycles:` number as N."""
    arch = BOARDS.get(board) or QEMU_CORES[board]
    cycles = "" if arch == "v6m" else "cycles: N\n"   # no DWT on ARMv6-M
    if prog == "systick_count":
        return (f"systick: period {SYSTICK_PERIOD} cycles, waiting for 11 ticks\n"
                "systick: 11 ticks, 11 of them in handler mode (IPSR 15)\n" + cycles)
    if prog == "rtos2task":
        return _rtos2task()
    if prog == "nested":
        return _nested(arch, board)
    if prog == "wfi":
        return (f"wfi: period {WFI_PERIOD} cycles\n"
                "wfi: 10 ticks after the first, every wakeup with a tick\n" + cycles +
                "wfi: masked wakeup, tick pending 1, handled after cpsie 1\n")
    assert prog == "fpu_ctx" and arch == "v7m-fp"
    return ("fpu_ctx: no FP context: exc_return fffffff9, lspact 0\n"
            "fpu_ctx: FP context: exc_return ffffffe9, lspact 1, fpca 0, fpcar ok, "
            "17 of 17 kept\n"
            "fpu_ctx: series under SysTick equals the masked run: yes\n")


CYCLES_LINE = re.compile(r"^cycles: (\d+)$", re.MULTILINE)


def _masked(text: str) -> str:
    return CYCLES_LINE.sub("cycles: N", text)


def _cycles(text: str) -> int:
    m = CYCLES_LINE.search(text)
    assert m, text
    return int(m.group(1))


def _cases() -> list[tuple[str, str]]:
    return [(p, b) for p in PROGRAMS for b in BOARDS
            if p not in FPU_PROGRAMS or BOARDS[b] == "v7m-fp"]


def _run(kernels, prog: str, board: str, **kw):
    elf = kernels / board / f"{prog}.elf"
    return simulate(elf, board, max_instructions=MAX_INSTRUCTIONS, **kw)


def _qemu(elf, machine: str = "mps2-an386") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none",
         "-serial", "stdio", "-semihosting-config", "enable=on,target=native",
         "-kernel", str(elf)],
        cwd=ROOT, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, text=True)


@pytest.fixture(scope="module")
def qemu_runs(kernels) -> dict[str, subprocess.CompletedProcess]:
    return {p: _qemu(kernels / "mps2-an386" / f"{p}.elf") for p in PROGRAMS}


def test_every_program_is_built_for_its_boards(kernels):
    for prog, board in _cases():
        assert (BUILD / board / f"{prog}.elf").is_file(), (prog, board)
    # fpu_ctx needs an FPU: not built for the M3 and M0+ boards.
    assert not (BUILD / "nucleo-f103rb" / "fpu_ctx.elf").exists()
    assert not (BUILD / "nucleo-g071rb" / "fpu_ctx.elf").exists()


@pytest.mark.parametrize("prog", PROGRAMS)
def test_qemu_prints_the_expected_text(qemu_runs, prog):
    """The reference: QEMU's mps2-an386 models exceptions, so it checks the expected text."""
    run = qemu_runs[prog]
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert _masked(run.stdout) == expected_text(prog, "mps2-an386")



@pytest.mark.parametrize(("machine", "prog"),
                         [(m, p) for m, a in QEMU_CORES.items() for p in PROGRAMS
                          if p not in FPU_PROGRAMS or a == "v7m-fp"])
def test_qemu_m3_m7_print_the_expected_text(kernels, machine, prog):
    """The ARMv7-M variants without an FPU (M3: the CM3 port, no s16-s31) and of the M7 run
    under QEMU as the expected text says."""
    run = _qemu(kernels / machine / f"{prog}.elf", machine)
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert _masked(run.stdout) == expected_text(prog, machine)


@pytest.mark.parametrize("prog", PROGRAMS)
def test_mcusim_equals_qemu_on_mps2(kernels, qemu_runs, prog):
    run = _run(kernels, prog, "mps2-an386")
    assert run.result.stop == "exit", run.result.fault
    assert run.result.exit_code == qemu_runs[prog].returncode
    assert _masked(run.stdout.decode()) == _masked(qemu_runs[prog].stdout)


@pytest.mark.parametrize(("prog", "board"), [c for c in _cases() if c[1] != "mps2-an386"])
def test_mcusim_prints_the_expected_text(kernels, prog, board):
    run = _run(kernels, prog, board)
    assert run.result.stop == "exit", run.result.fault
    assert run.result.exit_code == 0, run.stdout
    assert _masked(run.stdout.decode()) == expected_text(prog, board)


@pytest.mark.parametrize("board", list(BOARDS))
def test_wfi_sleeps_exactly_ten_tick_periods(kernels, board):
    """Woken from WFI by each tick, the handler runs at the same offset after every wrap: the
    DWT span from tick 1 to tick 11 is exactly 10 SysTick periods (no DWT on ARMv6-M). At zero
    wait states: with flash wait states the first handler run misses the flash cache and reads
    the DWT later than the others."""
    run = _run(kernels, "wfi", board, clock="16MHz")
    assert run.result.exit_code == 0, run.stdout
    if BOARDS[board] != "v6m":
        assert _cycles(run.stdout.decode()) == 10 * WFI_PERIOD
    # One wakeup per tick (under QEMU a host stall can merge two, so the program does not
    # print this count).
    assert int.from_bytes(run.sim.read_symbol("wfi_wakeups"), "little") == 10
    # The core slept: the run took at least those cycles but executed far fewer instructions.
    assert run.result.cycles >= 11 * WFI_PERIOD
    assert run.result.instructions < run.result.cycles // 20


@pytest.mark.parametrize("board", [b for b, a in BOARDS.items() if a != "v6m"])
def test_systick_ticks_every_period(kernels, board):
    """Busy waiting, each tick is taken at the next instruction boundary, a few cycles after
    the wrap: over 10 periods the span is 10 x 2000 within one pass of the wait loop (zero
    wait states, as for WFI)."""
    run = _run(kernels, "systick_count", board, clock="16MHz")
    assert run.result.exit_code == 0, run.stdout
    assert abs(_cycles(run.stdout.decode()) - 10 * SYSTICK_PERIOD) <= 12


@pytest.mark.parametrize(("prog", "board"), [("rtos2task", "nucleo-f446re"),
                                             ("nested", "nucleo-g071rb"),
                                             ("wfi", "nucleo-f103rb"),
                                             ("fpu_ctx", "nucleo-f746zg"),
                                             ("systick_count", "mps2-an386")])
def test_both_accounting_paths_give_identical_numbers(kernels, prog, board):
    """Native C, batched Python and block-by-block Python: same output, same figures (the
    native path only where it is available: not in CI's MCUSIM_NATIVE=0 run)."""
    runs = [_run(kernels, prog, board, native=False, batched=True),
            _run(kernels, prog, board, native=False, batched=False)]
    if native_lib.load_library() is not None:
        runs.append(_run(kernels, prog, board, native=True))
    assert all(r.result.exit_code == 0 for r in runs), runs[0].stdout
    assert len({r.stdout for r in runs}) == 1
    assert len({(r.result.cycles, r.result.instructions) for r in runs}) == 1


# Bytes rtos2task_port.S stores below a preempted task's PSP (its saved context): r4-r11 and
# EXC_RETURN, plus s16-s31 with an FPU (the CM4F port); r4-r11 on the M3 and M0+.
SAVED_CONTEXT = {"v7m-fp": 9 * 4 + 16 * 4, "v7m": 8 * 4, "v6m": 8 * 4}


@pytest.mark.parametrize("board", list(BOARDS))
def test_task_stack_peaks_match_what_the_tasks_wrote(kernels, board):
    """The memory report's process stacks (one per task, PSP) against the firmware's own
    high-water marks (stacks painted before the start, as FreeRTOS measures them): a task's
    stack holds its frames and exception frames (the PSP peak) and, below the PSP while it is
    switched out, the context the port saves, so the painted depth lies between the two; and
    never much below the peak (only space a function reserves and never writes)."""
    run = _run(kernels, "rtos2task", board, memory=True)
    assert run.result.exit_code == 0, run.stdout
    report = run.result.memory
    stacks = run.sim.firmware.symbols.get("stack_mem")
    used = run.sim.read_symbol("task_stack_used")
    tops = {p.top: p.peak_bytes for p in report.process_stacks}
    size = stacks.size // 2
    for task in range(2):
        painted = int.from_bytes(used[4 * task:4 * task + 4], "little")
        peak = tops[stacks.address + (task + 1) * size]
        assert peak - 8 <= painted <= peak + SAVED_CONTEXT[BOARDS[board]], (task, painted, peak)
        assert painted > 200   # printf ran on that stack
    assert report.psp_peak_bytes == max(tops.values())


# -- exception timing: kernels_c/ubench/ub_exc.S against the cycle table's [exceptions] -------

UBENCH_BOARDS = {"cortex-m0plus": "nucleo-g071rb", "cortex-m3": "nucleo-f103rb",
                 "cortex-m4": "nucleo-f446re"}   # the exactly modelled cores
UBENCH_LINE = re.compile(r"^ubench (\S+) (-?\d+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def exception_ubench(kernels) -> dict[str, dict[str, int]]:
    """core -> test -> cycles, from ubench at zero wait states (as mcusim validate runs it)."""
    out = {}
    for core, board in UBENCH_BOARDS.items():
        run = simulate(kernels / board / "ubench.elf", board, clock="16MHz",
                       max_instructions=MAX_INSTRUCTIONS)
        assert run.result.exit_code == 0, run.stdout
        out[core] = {m.group(1): int(m.group(2))
                     for m in UBENCH_LINE.finditer(run.stdout.decode())}
    return out


def _table_figures(core: str) -> dict[str, int]:
    """Each window's cycles from the cycle table alone: the instructions' own costs (the
    classes the table cites from the TRM's instruction tables) plus the [exceptions]
    latencies. A handler is one BX LR: the BX class plus the refill P."""
    table = load_cycle_table(core)
    lat = table.exceptions
    p = table.branch_refill
    bx = table.cost("bx") + p
    isb = table.cost("isb")
    return {"exc_svc_x1": table.cost("svc") + lat["entry"] + bx + lat["exit"],
            "exc_cpsie_irq_x1": table.cost("cps") + isb + lat["entry"] + bx + lat["exit"],
            "exc_tailchain_x2": (table.cost("cps") + isb + lat["entry"] + bx
                                 + lat["tail_chain"] + bx + lat["exit"])}


@pytest.mark.parametrize("core", list(UBENCH_BOARDS))
def test_exception_windows_cost_the_table_latencies(exception_ubench, core):
    measured = exception_ubench[core]
    for name, cycles in _table_figures(core).items():
        assert measured[name] == cycles, (name, measured)
    # Pending through NVIC_ISPR or ICSR.PENDSVSET costs the same: same instructions, latencies.
    assert measured["exc_irq_x1"] == measured["exc_pendsv_x1"]
    # A preempting (nested) entry from a handler is a full entry and exit again: the nested
    # window is the single-IRQ window twice.
    assert measured["exc_nested_x2"] == 2 * measured["exc_irq_x1"]
    # Tail-chaining into the second IRQ costs its BX LR and the tail-chain latency, no
    # unstacking and stacking: less than a second entry + exit.
    lat = load_cycle_table(core).exceptions
    second = measured["exc_tailchain_x2"] - measured["exc_cpsie_irq_x1"]
    assert second < lat["entry"] + lat["exit"]

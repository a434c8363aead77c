"""Memory accounting with exact expectations: stack high-water, heap peak, live bytes,
footprint, budgets, traces and their pictures."""

from __future__ import annotations

import json

import numpy as np

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main
from mcusim.traces.mtrace import Trace
from tests import asm
from tests.conftest import simulate

RECURSE = """
    movs r0, #10
    bl rec
""" + asm.EXIT_OK + """
    .thumb_func
rec:                        @ a 64-byte frame: 8 pushed + 56 reserved
    push {r4, lr}
    sub sp, #56
    subs r0, #1
    beq 1f
    bl rec
1:
    add sp, #56
    pop {r4, pc}
"""


def test_stack_peak_of_a_known_recursion_is_exact(tmp_path):
    run = simulate(asm.build(tmp_path, RECURSE), "nucleo-f446re", memory=True)
    m = run.result.memory
    assert m.stack_peak_bytes == 10 * 64
    assert m.stack_peak_pc.startswith("rec")
    assert m.stack_overflow is None


def test_run_time_sp_writes_are_tracked(tmp_path):
    body = """
    mov r1, sp
    sub r1, #200            @ a variable-length frame, set through a register
    mov sp, r1
    movs r2, #0
    mov r3, sp
    add r3, #200
    mov sp, r3
""" + asm.EXIT_OK
    run = simulate(asm.build(tmp_path, body), "nucleo-f446re", memory=True)
    assert run.result.memory.stack_peak_bytes == 200


def test_stack_overflow_is_reported_with_its_pc(tmp_path):
    elf = asm.build(tmp_path, """
    sub sp, #2048
    sub sp, #2048
    sub sp, #2048
    add sp, #2048
    add sp, #2048
    add sp, #2048
""" + asm.EXIT_OK + "\n    .global __StackLimit\n    .set __StackLimit, 0x20003000\n")
    run = simulate(elf, "nucleo-f446re", memory=True)
    m = run.result.memory
    assert m.stack_peak_bytes == 6144
    assert m.stack_overflow is not None and "reset+0x8" in m.stack_overflow
    assert "2048 bytes below the stack's limit 0x20003000" in m.stack_overflow
    assert m.stack_overflow in run.result.warnings


def test_heap_peak_of_a_known_pattern(kernels):
    run = simulate(kernels / "nucleo-f446re" / "heap_pattern.elf", "nucleo-f446re",
                   memory=True)
    m = run.result.memory
    # 16 blocks of 8 + 24 i bytes are live at once: sum = 16 * 8 + 24 * 120 = 3008; later
    # phases (odd ones freed, 8 x 100 added) stay below it, and so does printf's buffer.
    assert m.heap_peak_bytes == 3008
    assert m.heap_reserved_peak_bytes >= 3008
    assert m.peak_ram_bytes >= m.static_ram_bytes + m.heap_reserved_peak_bytes


LIVE = """
    ldr r0, =0x20001000
    movs r1, #0
    movs r2, #16
1:  str r1, [r0, r1]        @ write a 64-byte buffer, one word at a time
    adds r1, #4
    subs r2, #1
    bne 1b
    movs r1, #0
    movs r2, #8
2:  ldr r3, [r0, r1]        @ read back only its first half
    adds r1, #4
    subs r2, #1
    bne 2b
""" + asm.EXIT_OK


def test_live_bytes_of_a_half_read_buffer(tmp_path):
    run = simulate(asm.build(tmp_path, LIVE), "nucleo-f446re", clock="16MHz",
                   memory=True, record_accesses=True)
    m = run.result.memory
    # Only the half that is read back is ever live, and all of it at once.
    assert m.live_peak_bytes == 32
    from mcusim.sim.observe.memory_report import live_curve

    curve = live_curve(run.sim.memory_tracker)
    # The curve: +4 per word written in the first half, then -4 as each is read for the last
    # time; the second half never counts.
    steps = np.diff(np.concatenate([[0], curve.live]))
    assert list(steps) == [4] * 8 + [-4] * 8


def test_budgets_fail_the_run(kernels, capsys):
    elf = kernels / "nucleo-f446re" / "recurse.elf"
    assert main(["run", str(elf), "--max-stack", "1K"]) == ExitCode.MEMORY_BUDGET
    err = " ".join(capsys.readouterr().err.split())
    assert "exceeds --max-stack 1,024" in err and "stack peak of" in err
    assert main(["run", str(elf), "--max-stack", "64K", "--max-ram", "64K"]) == 0
    assert main(["run", str(elf), "--max-ram", "2K"]) == ExitCode.MEMORY_BUDGET
    assert main(["run", str(elf), "--max-ram", "lots"]) == ExitCode.USAGE


def test_profile_json_has_memory_per_marker(kernels, tmp_path, capsys):
    out = tmp_path / "r.json"
    elf = kernels / "nucleo-f446re" / "cnn_chain.elf"
    assert main(["run", str(elf), "--profile", "--json", str(out)]) == 0
    m = json.loads(out.read_text())["memory"]
    for key in ("static_ram_bytes", "stack_peak_bytes", "heap_peak_bytes", "peak_ram_bytes",
                "live_peak_bytes", "flash_bytes"):
        assert isinstance(m[key], int) and m[key] > 0, key
    names = [r["name"] for r in m["regions"]]
    assert names == ["conv3x3", "dwconv3x3", "conv1x1", "avgpool", "fc"]
    for r in m["regions"]:
        assert 0 < r["live_peak_bytes"] <= m["live_peak_bytes"]
        assert r["peak_ram_bytes"] <= m["peak_ram_bytes"]
    flash = [f for f in m["footprint"] if f["region"] == "flash"][0]
    assert flash["used_bytes"] == m["flash_bytes"] and ".text" in flash["sections"]


def test_trace_round_trip_and_pictures(kernels, tmp_path, capsys):
    elf = kernels / "nucleo-f446re" / "cnn_chain.elf"
    path = tmp_path / "run.mtrace"
    assert main(["run", str(elf), "--profile", "--json", str(tmp_path / "r.json")]) == 0
    assert main(["trace", str(elf), "-o", str(path)]) == 0
    trace = Trace.open(path)
    assert len(trace) > 100_000 and trace.meta["board"] == "nucleo-f446re"
    assert {m["name"] for m in trace.meta["markers"]} >= {"conv3x3", "fc"}
    from mcusim.traces.liveness import live_bytes

    live = json.loads((tmp_path / "r.json").read_text())["memory"]["live_peak_bytes"]
    assert live_bytes(trace).peak_bytes == live  # the same figure from the file
    assert main(["view", str(path)]) == 0
    png, html = path.with_suffix(".png"), path.with_suffix(".html")
    assert png.stat().st_size > 20_000 and html.read_text().count("data:image/png;base64") == 1
    assert "peak live" in capsys.readouterr().out


def test_trace_refuses_to_overwrite_other_files(kernels, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    elf = kernels / "nucleo-f446re" / "fc.elf"
    assert main(["trace", str(elf), "-o", str(notes)]) == ExitCode.CANT_WRITE
    assert notes.read_text() == "mine"
    assert main(["view", str(tmp_path / "none.mtrace")]) == ExitCode.NO_INPUT
    assert main(["view", str(notes)]) == ExitCode.BAD_INPUT


def test_trace_of_chosen_regions(kernels, tmp_path, capsys):
    elf = kernels / "stm32f4-discovery" / "cnn_chain.elf"
    path = tmp_path / "sram2.mtrace"
    assert main(["trace", str(elf), "--board", "stm32f4-discovery", "--regions", "sram2",
                 "-o", str(path)]) == 0
    trace = Trace.open(path)
    assert [r["name"] for r in trace.meta["regions"]] == ["sram2"]
    addresses = np.asarray(trace.address)
    assert len(addresses) > 1000  # the stack lives at the top of SRAM2
    assert ((addresses >= 0x2001C000) & (addresses < 0x20020000)).all()
    assert main(["trace", str(elf), "--board", "stm32f4-discovery", "--regions", "dram",
                 "-o", str(tmp_path / "x.mtrace")]) == ExitCode.USAGE
    assert "its RAM regions are ccm, sram1, sram2" in " ".join(capsys.readouterr().err.split())

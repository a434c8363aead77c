"""The profiler on programs with known call trees: exact call counts, self cycles adding up
to the run's total, recursion counted once, regions equal to the program's own DWT timing."""

from __future__ import annotations

import re

import pytest

from mcusim.sim.cli import main
from tests import asm
from tests.conftest import simulate


def _functions(run):
    return {f.name: f for f in run.result.functions}


@pytest.mark.parametrize("board,clock", [("mps2-an386", None), ("nucleo-f446re", "16MHz"),
                                         ("nucleo-f103rb", "16MHz"), ("nucleo-f746zg", None),
                                         ("stm32f4-discovery", None), ("nucleo-g071rb", None)])
def test_call_tree(kernels, board, clock):
    run = simulate(kernels / board / "calltree.elf", board, clock=clock, profile=True,
                   symbol_regions=[("start_trigger", "stop_trigger")])
    assert run.result.exit_code == 0
    f = _functions(run)
    assert (f["mid"].calls, f["leaf"].calls, f["fact"].calls, f["tail"].calls) == (3, 8, 10, 1)
    assert f["main"].calls == 1
    # Self cycles and instructions add up to the run's totals exactly.
    assert sum(x.self_cycles for x in f.values()) == run.result.cycles
    assert sum(x.instructions for x in f.values()) == run.result.instructions
    # Recursion: fact's inclusive time counts each outermost activation once.
    assert f["fact"].inclusive_cycles == f["fact"].self_cycles
    assert f["mid"].inclusive_cycles > f["mid"].self_cycles
    assert f["main"].inclusive_cycles >= sum(
        f[n].inclusive_cycles for n in ("mid", "fact", "tail"))
    edges = {(e.caller, e.callee): e.calls for e in run.result.profile.edges}
    assert edges[("mid", "leaf")] == 6
    # leaf via the function pointer (from main) and via tail: a tail call where the compiler
    # emits B (main -> leaf), a call from tail where it cannot (ARMv6-M's short B range).
    assert edges[("main", "leaf")] + edges.get(("tail", "leaf"), 0) == 2
    assert edges[("fact", "fact")] == 9 and edges[("main", "fact")] == 1
    # The region between the two trigger functions equals what the program measured itself.
    printed = int(re.search(rb"cycles: (\d+)", run.stdout).group(1))
    (region,) = [r for r in run.result.regions if r.name == "start_trigger:stop_trigger"]
    assert (region.count, region.cycles) == (1, printed)


def test_collapsed_stacks_add_up(kernels):
    run = simulate(kernels / "mps2-an386" / "calltree.elf", "mps2-an386", profile=True)
    stacks = run.result.profile.stacks
    assert sum(stacks.values()) == run.result.cycles
    assert any(path[-3:] == ("main", "mid", "leaf") for path in stacks)
    assert any(path[-3:] == ("fact", "fact", "fact") for path in stacks)


def test_region_markers_nested_and_repeated(tmp_path):
    elf = asm.build(tmp_path, """
    ldr r4, =outer
    ldr r5, =inner
    movs r6, #3
again:
    mov r0, r4
    bl mcusim_region_begin
    mov r0, r5
    bl mcusim_region_begin
    nop
    mov r0, r5
    bl mcusim_region_end
    mov r0, r4
    bl mcusim_region_end
    subs r6, #1
    bne again
    mov r0, r5
    bl mcusim_region_end
""" + asm.EXIT_OK + """
    .thumb_func
    .global mcusim_region_begin
mcusim_region_begin:
    bx lr
    .thumb_func
    .global mcusim_region_end
mcusim_region_end:
    nop
    bx lr
    .pool
outer: .asciz "outer"
inner: .asciz "inner"
    .align 2
""")
    run = simulate(elf, "nucleo-f446re", clock="16MHz")
    regions = {r.name: r for r in run.result.regions}
    assert regions["outer"].count == 3 and regions["inner"].count == 3
    assert regions["outer"].cycles > regions["inner"].cycles > 0
    assert run.result.warnings == ["region 'inner' ended without a matching begin"]


def test_profile_report_and_unknown_region(kernels, capsys):
    elf = kernels / "nucleo-f446re" / "conv3x3.elf"
    assert main(["run", str(elf), "--profile", "--sort", "inclusive"]) == 0
    err = capsys.readouterr().err
    assert "int8_conv2d" in err and "hottest basic blocks" in err and "regions" in err
    assert main(["run", str(elf), "--region", "nope:main"]) == 64
    assert "no symbol 'nope'" in capsys.readouterr().err


def test_exports_open_in_their_tools(kernels, tmp_path, capsys):
    import json
    import subprocess

    elf = kernels / "nucleo-f446re" / "conv3x3.elf"
    cg, folded, trace = tmp_path / "cg.out", tmp_path / "stacks.txt", tmp_path / "trace.json"
    assert main(["run", str(elf), "--profile=lines", "--callgrind", str(cg), "--collapsed",
                 str(folded), "--trace-out", str(trace)]) == 0
    err = capsys.readouterr().err
    assert "hottest source lines" in err and "int8_kernels.c:" in err
    annotate = subprocess.run(["callgrind_annotate", "--auto=no", str(cg)], check=True,
                              capture_output=True, text=True).stdout
    rows = [ln for ln in annotate.splitlines() if ":int8_conv2d" in ln or "???:" in ln
            or ".c:" in ln]
    assert "int8_conv2d" in rows[0], annotate
    total = sum(int(ln.rsplit(" ", 1)[1]) for ln in folded.read_text().splitlines())
    data = json.loads(trace.read_text())
    names = {e["name"] for e in data["traceEvents"] if e["ph"] == "X"}
    assert {"int8_conv2d", "conv3x3", "main"} <= names
    assert data["otherData"]["total_cycles"] == total


def test_trace_json_has_memory_counter_tracks(kernels, tmp_path, capsys):
    import json

    trace = tmp_path / "t.json"
    assert main(["run", str(kernels / "nucleo-f446re" / "cnn_chain.elf"), "--profile",
                 "--trace-out", str(trace)]) == 0
    events = json.loads(trace.read_text())["traceEvents"]
    counters = {e["name"] for e in events if e["ph"] == "C"}
    assert {"stack bytes", "heap bytes", "live bytes"} <= counters
    live = max(e["args"]["value"] for e in events if e["ph"] == "C" and e["name"] == "live bytes")
    assert live > 4000  # the peak survives the thinning (cnn_chain peaks at ~4.5 KB)


def test_code_without_symbols_is_named_by_its_address(kernels, tmp_path, capsys):
    """A stripped ELF: each block is named by its own address, as perf names code without
    symbols, not by a range from address 0 (`0x00000000-0x08000401`)."""
    import subprocess

    stripped = tmp_path / "calltree-stripped.elf"
    subprocess.run(["arm-none-eabi-strip", "-o", str(stripped),
                    str(kernels / "nucleo-f446re" / "calltree.elf")], check=True)
    run = simulate(stripped, "nucleo-f446re", profile=True)
    names = [f.name for f in run.result.functions]
    assert names and all(re.fullmatch(r"0x0800[0-9a-f]{4}", n) for n in names), names
    assert sum(f.self_cycles for f in run.result.functions) == run.result.cycles
    assert main(["run", str(stripped), "--profile"]) == 0
    err = capsys.readouterr().err
    assert "0x00000000-" not in err and names[0] in err


def test_code_between_two_symbols_is_named_by_the_gap():
    from mcusim.sim.core.firmware import Symbol, SymbolTable

    table = SymbolTable([Symbol("a", 0x100, 0x10, "func"), Symbol("b", 0x200, 0x10, "func")])
    assert table.unknown_name(0x150) == "0x00000110-0x000001ff"  # the gap: one name for it
    assert table.unknown_name(0x80) == "0x00000080"  # nothing before: the block's address
    assert table.unknown_name(0x300) == "0x00000300"  # nothing after

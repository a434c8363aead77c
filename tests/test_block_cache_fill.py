"""Filling the persistent block cache (isa/block_cache.py): what a filling run stores is what
a warm run gets back, exactly, also when instructions share a text, when runs write the file
concurrently, and when the file is of another format or not a cache file at all."""

from __future__ import annotations

import marshal
import os

import pytest

from mcusim.isa import block_cache
from mcusim.isa.block_cache import FORMAT, BlockCache
from mcusim.isa.classify import InsnInfo
from mcusim.isa.decode import classify_block, decode_span, forget_decoded
from mcusim.isa.timing import BlockTiming
from mcusim.sim.core import code_map
from tests.conftest import simulate


def _fresh_process_memos() -> None:
    """What a new process would not have: decoded spans and hook blocks."""
    forget_decoded()
    code_map._HOOK_BLOCKS.clear()


def _outcome(elf, board, native):
    _fresh_process_memos()
    run = simulate(elf, board, native=native)
    hooks = sorted((a, getattr(cb, "__name__", repr(cb))) for a, cb in run.sim._code_hooks)
    r = run.result
    return (r.stop, r.instructions, r.cycles, run.stdout, hooks,
            sorted((b.address, b.count, b.cycles, b.executions) for b in run.sim.blocks.values()))


@pytest.mark.parametrize("native", [False, True], ids=["python", "native"])
@pytest.mark.parametrize("board,prog", [("nucleo-f103rb", "divide"), ("nucleo-f446re", "wfi")])
def test_a_filling_and_a_warm_run_count_and_hook_what_a_cold_run_does(
        kernels, tmp_path, monkeypatch, native, board, prog):
    if native:
        from mcusim.sim.accounting import native_lib

        if native_lib.load_library() is None:
            pytest.skip("the native hot path is not available")
    elf = kernels / board / f"{prog}.elf"
    monkeypatch.setenv("MCUSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "0")
    cold = _outcome(elf, board, native)
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "1")
    first = _outcome(elf, board, native)  # (only a marker: isa/block_cache._seen_before)
    assert not list(tmp_path.glob("blocks-*.marshal")) and first == cold
    filling = _outcome(elf, board, native)
    (path,) = tmp_path.glob("blocks-*.marshal")
    written = path.stat().st_mtime_ns, path.read_bytes()
    warm = _outcome(elf, board, native)
    assert cold == filling == warm
    assert cold[4], "the program places code hooks"  # (so that hooks are compared)
    # The warm run found every block and hook block in the file: it added none, so it did
    # not write it again.
    assert (path.stat().st_mtime_ns, path.read_bytes()) == written


def _block(code_hex: str, address: int) -> tuple[bytes, list[InsnInfo]]:
    code = bytes.fromhex(code_hex)
    return code, classify_block(code, address)


def test_two_runs_that_read_the_file_before_either_wrote_it_keep_both_their_blocks(tmp_path):
    path = tmp_path / "blocks-c.marshal"
    a, ia = _block("0120" "4ff00001", 0x1000)  # movs; mov.w
    b, ib = _block("0221" "b0fbf1f0", 0x2000)  # movs; udiv
    first, second = BlockCache(path), BlockCache(path)
    assert first.get(0x1000, a) is None and second.get(0x2000, b) is None  # both read: none
    first.put(0x1000, a, (ia, BlockTiming([1, 1]), None))
    second.put(0x2000, b, (ib, BlockTiming([1, 2], 0, 0, {0x2002: "div"}), [0, 3]))
    first.save()
    second.save()  # the file changed since it read it: merged, not replaced
    reader = BlockCache(path)
    got_a, got_b = reader.get(0x1000, a), reader.get(0x2000, b)
    assert got_a[0] == ia and got_a[1].cycles == [1, 1] and got_a[2] is None
    assert got_b[0] == ib and got_b[1].dynamic == {0x2002: "div"} and got_b[2] == [0, 3]
    # A third save with nothing new from the first changes nothing; one more block from it
    # is merged with both.
    c, ic = _block("0846", 0x3000)  # mov r0, r1
    first.put(0x3000, c, (ic, BlockTiming([1]), None))
    first.save()
    reader = BlockCache(path)
    assert all(reader.get(*key) is not None for key in ((0x1000, a), (0x2000, b), (0x3000, c)))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_instructions_of_one_text_keep_their_own_fields(tmp_path):
    """Shapes are found by text: instructions of equal text but other fields (made apart, so
    their texts are other objects) keep their own, and equal ones share one shape."""
    code, (insn,) = _block("0846", 0x1000)  # mov r0, r1
    text = insn.text
    other_text = "".join(list(text))  # equal, another object
    assert other_text == text and other_text is not text
    twin = insn._replace(address=0x1002, text=other_text)  # the same shape
    wide = insn._replace(address=0x1004, size=4, text="".join(list(text)), nregs=3)
    insns = [insn, twin, wide, insn._replace(address=0x1008)]
    cache = BlockCache(tmp_path / "blocks-t.marshal")
    cache.put(0x1000, code * 5, (insns, BlockTiming([1, 1, 2, 1]), None))
    cache.save()
    reader = BlockCache(tmp_path / "blocks-t.marshal")
    got = reader.get(0x1000, code * 5)[0]
    assert list(got) == insns and got[2].size == 4 and got[2].nregs == 3
    assert len(reader._shapes) == 2  # insn and twin share one, wide has its own
    # A run adding to that file finds the file's shapes again (its texts are marshal's).
    more = [insn._replace(address=0x2000), wide._replace(address=0x2002)]
    reader.put(0x2000, code * 3, (more, BlockTiming([1, 2]), None))
    reader.save()
    again = BlockCache(tmp_path / "blocks-t.marshal")
    assert list(again.get(0x2000, code * 3)[0]) == more and len(again._shapes) == 2


def test_decoded_instructions_that_share_a_text_object_share_every_other_field(kernels):
    """What the cache relies on (its docstring): isa/decode.py makes the text of an
    instruction once per classification, so instructions sharing the text object differ
    only in their address."""
    from elftools.elf.elffile import ELFFile

    by_text: dict[int, set[tuple]] = {}
    decoded = []  # (kept, so that no text object is freed and its id reused)
    for prog in ("conv3x3", "fc", "divide", "branchy", "rtos2task", "ubench"):
        _fresh_process_memos()
        with open(kernels / "nucleo-f446re" / f"{prog}.elf", "rb") as f:
            text = ELFFile(f).get_section_by_name(".text")
            span = decode_span(text["sh_addr"], text.data())
        decoded.append(span.insns)
        for i in span.insns:
            by_text.setdefault(id(i.text), set()).add(i[1:])
    assert sum(map(len, decoded)) > 5000
    assert all(len(shapes) == 1 for shapes in by_text.values())


def _write(path, data) -> None:
    path.write_bytes(marshal.dumps(data))


def test_a_file_of_the_previous_format_is_ignored_and_replaced(tmp_path):
    path = tmp_path / "blocks-f.marshal"
    code, insns = _block("0120", 0x1000)
    # What FORMAT 3 wrote: the same layout with other encodings of cycles and stalls.
    _write(path, {"format": FORMAT - 1, "shapes": [insns[0][1:]],
                  "blocks": {(0x1000, code): (b"\0\0\0\0", [7], 0, 0, {}, None)}, "hooks": {}})
    cache = BlockCache(path)
    assert cache.get(0x1000, code) is None
    cache.put(0x1000, code, (insns, BlockTiming([1]), None))
    cache.save()
    assert marshal.loads(path.read_bytes())["format"] == FORMAT
    assert BlockCache(path).get(0x1000, code)[1].cycles == [1]


@pytest.mark.parametrize("content", [
    marshal.dumps({"format": FORMAT, "shapes": {}, "blocks": {}, "hooks": {}}),
    marshal.dumps({"format": FORMAT, "shapes": [], "blocks": [], "hooks": {}}),
    marshal.dumps({"format": FORMAT}),
    marshal.dumps([FORMAT]),
    marshal.dumps({"format": FORMAT, "shapes": [], "blocks": {}, "hooks": {}})[:-3],
    b"",
    marshal.dumps({"format": FORMAT, "shapes": [], "hooks": {(0x1000, 2, "x"): ([(1, 2)], [])},
                   "blocks": {(0x1000, bytes.fromhex("0120")): (b"\0\0\0\0", b"\1", 0)}}),
    marshal.dumps({"format": FORMAT, "shapes": [], "hooks": {(0x1000, 2, "x"): 5},
                   "blocks": {(0x1000, bytes.fromhex("0120")): (b"\7\0\0\0", b"\1", 0, 0,
                                                                 {}, None)}}),
    marshal.dumps({"format": FORMAT, "shapes": [5, ()], "blocks": {}, "hooks": {}}),
    marshal.dumps({"format": FORMAT, "shapes": [(2,)], "hooks": {(0x1000, 2, "x"): (
        [(0x1000, b"\0\0\0\0")], [{}])}, "blocks": {(0x1000, bytes.fromhex("0120")): (
            b"\0\0\0\0", b"\1", 0, 0, {}, None)}}),
], ids=["shapes-dict", "blocks-list", "no-fields", "a-list", "truncated", "empty",
        "short-entries", "bad-index", "bad-shapes", "short-shape"])
def test_a_foreign_or_broken_file_is_no_cache(tmp_path, content):
    path = tmp_path / "blocks-g.marshal"
    path.write_bytes(content)
    code, insns = _block("0120", 0x1000)
    cache = BlockCache(path)
    assert cache.get(0x1000, code) is None and cache.hooks(0x1000, 2, "x") is None
    cache.put(0x1000, code, (insns, BlockTiming([1]), [2]))
    cache.save()
    assert BlockCache(path).get(0x1000, code)[2] == [2]


def test_a_cache_directory_that_cannot_be_written_costs_only_speed(tmp_path, monkeypatch):
    path = tmp_path / "blocks-r.marshal"
    code, insns = _block("0120", 0x1000)
    cache = BlockCache(path)
    cache.put(0x1000, code, (insns, BlockTiming([1]), None))

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(block_cache.tempfile, "mkstemp", refuse)
    cache.save()  # no error
    assert not path.exists()
    assert cache.get(0x1000, code)[0] == insns  # still known to this run
    monkeypatch.undo()
    cache.save()  # what the failed save could not write
    assert BlockCache(path).get(0x1000, code)[0] == insns
    assert os.listdir(tmp_path) == [path.name]


def test_reading_the_file_leaves_the_collector_as_it_was(tmp_path):
    """The loaded objects are moved to the oldest generation (isa/block_cache.py _loads):
    nothing stays frozen, objects a program froze stay frozen, and the collector stays on or
    off as it was."""
    import gc

    path = tmp_path / "blocks-gc.marshal"
    code, insns = _block("0120", 0x1000)
    cache = BlockCache(path)
    cache.put(0x1000, code, (insns, BlockTiming([1]), None))
    cache.save()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    got = BlockCache(path).get(0x1000, code)
    shape = got[0]._shapes[0]
    assert gc.is_tracked(shape)  # (it holds frozensets), but neither young nor middle-aged
    assert not any(o is shape for o in gc.get_objects(0) + gc.get_objects(1))
    assert got[0] == insns and gc.isenabled() and gc.get_freeze_count() == 0
    kept = [[1]]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert BlockCache(path).get(0x1000, code)[0] == insns
        assert gc.get_freeze_count() == frozen  # the program's freeze is kept
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        assert BlockCache(path).get(0x1000, code)[0] == insns
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert kept


def test_a_warm_blocks_count_end_sp_changes_and_classes_need_no_shapes(tmp_path):
    from mcusim.isa.cached_insns import of_classes, sp_deltas

    # push {r4, lr}; sub sp, #8; wfi; add sp, #8; pop {r4, pc}
    code, insns = _block("10b5" "82b0" "30bf" "02b0" "10bd", 0x4000)
    cache = BlockCache(tmp_path / "blocks-w.marshal")
    cache.put(0x4000, code, (insns, BlockTiming([1] * 5), None))
    cache.save()
    got = BlockCache(tmp_path / "blocks-w.marshal").get(0x4000, code)[0]
    assert len(got) == 5 and got.address == 0x4000
    assert got.last() == insns[-1] and got.last().address == 0x4008
    assert sp_deltas(got) == [i.sp_delta for i in insns] == [-8, -8, 0, 8, 8]
    assert of_classes(got, ("mul", "sdiv")) == []
    assert got._looked_up is None  # none of that looked a shape up
    assert of_classes(got, ("wfi",)) == [insns[2]]
    assert list(got) == insns and got[1:3] == insns[1:3] and len(got) == 5
    assert got.last() == insns[-1] and sp_deltas(got) == [-8, -8, 0, 8, 8]

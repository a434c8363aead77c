"""The block cache's shape indices (isa/shape_index.py): the C pass (isa/native/shape_index.c)
gives exactly what `sequential_indices` defines, and every way gives each instruction a shape
equal to its own fields, on the kernels' code and on instructions made to trip the text
look-up (equal texts of other objects and other fields, shapes read from a file, shapes kept
by value)."""

from __future__ import annotations

import random

import pytest

from mcusim.isa import shape_index
from mcusim.isa.decode import decode_span, forget_decoded
from mcusim.isa.shape_index import ShapeIndex, sequential_indices
from mcusim.sim.core.code_map import code_spans

try:
    from mcusim.isa import _shape_index as C
except ImportError:  # not built: only the Python ways are compared
    C = None

needs_c = pytest.mark.skipif(C is None, reason="mcusim.isa._shape_index is not built")


def _c_indices(index: ShapeIndex, runs: list) -> list[bytes]:
    return C.shape_indices(runs, index)


def _chunked(index: ShapeIndex, runs: list, monkeypatch) -> list[bytes]:
    with monkeypatch.context() as m:
        m.setattr(shape_index, "NATIVE", None)
        return index.indices_of(runs)


def _assert_shapes_fit(index: ShapeIndex, runs: list, out: list[bytes]) -> None:
    from array import array

    assert len(out) == len(runs)
    for run, packed in zip(runs, out, strict=True):
        ks = array("I", packed)
        assert len(ks) == len(run)
        assert all(index.shapes[k] == insn[1:] for k, insn in zip(ks, run, strict=True))


def _kernel_runs(kernels) -> list[list]:
    """The decoded code of a few kernels, cut into runs at random points."""
    rnd = random.Random(7)
    runs = []
    for board, prog in (("nucleo-f446re", "conv3x3"), ("nucleo-f446re", "fpu_ctx"),
                        ("nucleo-f103rb", "branchy"), ("nucleo-g071rb", "fc"),
                        ("nucleo-f746zg", "divide")):
        for span in code_spans(kernels / board / f"{prog}.elf"):
            insns = decode_span(span.address, span.code).insns
            k = 0
            while k < len(insns):
                n = rnd.randrange(1, 300)
                runs.append(insns[k:k + n])
                k += n
    return runs


def _tricky_runs(kernels) -> tuple[list[tuple], list[list]]:
    """File shapes (texts that are other objects) and runs whose texts equal others' but are
    other objects, with the same or other fields."""
    forget_decoded()
    base = _kernel_runs(kernels)[:40]
    insns = [i for run in base for i in run]
    rnd = random.Random(11)
    file_shapes = [tuple(["".join(list(i.text)) if f == 1 else v for f, v in enumerate(i[1:])])
                   for i in rnd.sample(insns, 60)]
    made = []
    for i in insns[:400]:
        # Equal texts, other objects (one per shape: what the cache relies on, its docstring
        # says, is only that instructions sharing a text object share their other fields).
        made.append(i._replace(text="".join(list(i.text))))
        made.append(i._replace(text="".join(list(i.text)), nregs=i.nregs + 1))  # other fields
        made.append(i)
    rnd.shuffle(made)
    return file_shapes, [made[k:k + 37] for k in range(0, len(made), 37)] + base


@needs_c
def test_the_c_pass_is_the_sequential_definition_on_the_kernels(kernels):
    forget_decoded()
    runs = _kernel_runs(kernels)
    assert sum(map(len, runs)) > 5000
    c_index, py_index = ShapeIndex([]), ShapeIndex([])
    got, want = _c_indices(c_index, runs), sequential_indices(py_index, runs)
    assert got == want
    assert c_index.shapes == py_index.shapes
    assert all(a is b for a, b in zip(c_index.checked, py_index.checked, strict=True))
    _assert_shapes_fit(c_index, runs, got)
    # Again over the same runs: every text now known and checked.
    assert _c_indices(c_index, runs) == want


@needs_c
def test_the_c_pass_settles_equal_texts_of_other_objects_and_file_shapes(kernels):
    file_shapes, runs = _tricky_runs(kernels)
    c_index, py_index = ShapeIndex(list(file_shapes)), ShapeIndex(list(file_shapes))
    got, want = _c_indices(c_index, runs), sequential_indices(py_index, runs)
    assert got == want and c_index.shapes == py_index.shapes
    assert (c_index.by_shape is None) == (py_index.by_shape is None)
    assert c_index.by_shape is not None  # (the runs did make two shapes of one text)
    # ...part-way through the pass: the shapes of texts seen after it are kept by value too.
    assert c_index.by_shape == py_index.by_shape
    assert all(c_index.by_shape.get(shape) is not None for shape in c_index.shapes)
    _assert_shapes_fit(c_index, runs, got)
    # With shapes kept by value from the start, new texts are settled by Python too.
    more = [[i._replace(address=i.address + 2, text="x" + i.text) for i in run] for run in runs]
    assert _c_indices(c_index, more) == sequential_indices(py_index, more)
    assert c_index.shapes == py_index.shapes
    _assert_shapes_fit(c_index, more, _c_indices(c_index, more))


def test_every_way_gives_each_instruction_its_own_shape(kernels, monkeypatch):
    file_shapes, runs = _tricky_runs(kernels)
    for way in (lambda ix: sequential_indices(ix, runs),
                lambda ix: _chunked(ix, runs, monkeypatch),
                lambda ix: ix.indices_of(runs)):  # (the C pass where it is built)
        index = ShapeIndex(list(file_shapes))
        _assert_shapes_fit(index, runs, way(index))


@needs_c
def test_the_c_pass_refuses_what_is_no_instruction():
    index = ShapeIndex([])
    with pytest.raises(TypeError):
        _c_indices(index, [[("not", "an")], ])
    with pytest.raises(TypeError):
        _c_indices(index, [[42]])
    index = ShapeIndex([(2, "mov r0, r1")])
    index.by_text["mov r0, r1"] = 5  # an index past the shapes: never read out of range
    with pytest.raises(IndexError):
        _c_indices(index, [[(0x1000, 2, "mov r0, r1")]])


@needs_c
def test_the_c_pass_settles_equal_shapes_of_other_text_objects_without_python(kernels):
    """Unrolled code repeats IT blocks, decoded each time (a text object per instance): an
    instruction whose text equals a known one's, of another object, with the same fields,
    and a new text once shapes are kept by value, are settled in C (Python is asked only
    about an equal text with other fields), with what `sequential_indices` gives."""
    forget_decoded()
    base = [i for run in _kernel_runs(kernels)[:20] for i in run]
    twins = [i._replace(address=i.address + 0x100000, text="".join(list(i.text))) for i in base]
    c_index, py_index = ShapeIndex([]), ShapeIndex([])
    asked = []
    c_index._settle_one = lambda insn, k: asked.append(insn) or ShapeIndex._settle_one(
        c_index, insn, k)
    runs = [base, twins]
    assert _c_indices(c_index, runs) == sequential_indices(py_index, runs)
    assert asked == []
    assert all(a is b for a, b in zip(c_index.checked, py_index.checked, strict=True))
    # Shapes kept by value (made by one equal text with other fields: Python's), then texts
    # not seen: entered in by_shape here.
    other = base[0]._replace(text="".join(list(base[0].text)), nregs=base[0].nregs + 1)
    fresh = [i._replace(text="y" + i.text) for i in base]
    runs = [[other], fresh]
    assert _c_indices(c_index, runs) == sequential_indices(py_index, runs)
    assert asked == [other]
    assert c_index.by_shape == py_index.by_shape and c_index.shapes == py_index.shapes

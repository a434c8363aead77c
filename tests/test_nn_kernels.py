"""The nn kernel library (kernels_c/nn/) is bit-exact with a numpy model of TFLite Micro's
int8 reference kernels (tests/nn_ref.py), on the DSP path (M4, M7, M33) and the portable path
(M0+, M3): random shapes, odd channel counts, strides, dilation, padding, depth multipliers,
channel slices in strided buffers (untouched slots must stay as they were) and partial
accumulation in int32, run through one driver program per board."""

from __future__ import annotations

import numpy as np
import pytest

from tests import nn_cases, nn_ref
from tests.conftest import simulate

# (board, driver build): the DSP path on M4, M7 and M33, the portable path on M0+ and M3, and the
# DSP path with its hot loops in RAM (-DNN_CODE_IN_RAM, as `mcusim nn` builds for flash boards).
BUILDS = [("mps2-an386", "nn_kernel_test"), ("nucleo-f746zg", "nn_kernel_test"),
          ("nucleo-g071rb", "nn_kernel_test"), ("nucleo-f103rb", "nn_kernel_test"),
          ("nucleo-l4r5zi", "nn_kernel_test_ram"), ("nucleo-u575zi", "nn_kernel_test")]
PER_KERNEL = 12


@pytest.mark.parametrize(("board", "program"), BUILDS)
def test_kernels_match_reference(kernels, board, program, tmp_path):
    cases = nn_cases.make_cases(seed=BUILDS.index((board, program)) + 10, per_kernel=PER_KERNEL)
    (tmp_path / "cases.bin").write_bytes(nn_cases.encode_file(cases))
    elf = kernels / board / f"{program}.elf"
    run = simulate(elf, board, argv=[elf.name, "cases.bin", "out.bin"], fs_root=tmp_path)
    assert run.result.exit_code == 0, (run.stdout, run.result.fault)
    outputs = nn_cases.decode_outputs((tmp_path / "out.bin").read_bytes())
    assert len(outputs) == len(cases)
    bad = [c.label for c, out in zip(cases, outputs, strict=True) if out != c.expected]
    assert not bad, f"{len(bad)} of {len(cases)} cases differ, first: {bad[:5]}"


def test_cases_are_not_trivial():
    """The comparison proves something: outputs vary, slices and tails are exercised."""
    cases = nn_cases.make_cases(seed=1, per_kernel=PER_KERNEL)
    convs = [c for c in cases if c.op == nn_cases.CONV]
    assert any(len(np.unique(np.frombuffer(c.expected, np.int8))) > 8 for c in convs)
    assert any("c[0," not in c.label for c in convs)  # a channel slice
    assert any(c.params[22] > 1 for c in cases if c.op == nn_cases.DW)  # depth multiplier
    assert any(c.params[10] == 2 for c in convs)  # stride 2


def test_softmax_reference_sums_to_one():
    """The fixed-point softmax model agrees with the real softmax to a couple of LSBs."""
    rng = np.random.default_rng(0)
    scale = 0.1
    mult, left_shift, diff_min = nn_ref.softmax_params(scale)
    x = rng.integers(-128, 128, (4, 10))
    q = nn_ref.softmax(x, mult, left_shift, diff_min)
    e = np.exp(scale * (x - x.max(axis=1, keepdims=True)))
    real = e / e.sum(axis=1, keepdims=True)
    assert np.abs((q.astype(float) + 128) / 256 - real).max() < 3 / 256

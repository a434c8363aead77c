"""The arena planner: tensors alive at the same time never overlap; the arena is no larger
than the layer-by-layer bound where first fit reaches it; the schedule is data."""

from __future__ import annotations

import itertools

import numpy as np

from mcusim.nn.planner import BufferUse, conv_scratch_per_tap, plan_arena, plan_layers
from mcusim.nn.schedule import Schedule, Step, layer_schedule
from mcusim.nn.tflite_import import parse_model
from tests.nn_synth import small_cnn


def test_layer_plan_of_small_model():
    g = parse_model(small_cnn(), "small")
    s = layer_schedule(g)
    assert [st.name for st in s][:2] == ["L00_CONV_2D", "L01_DEPTHWISE_CONV_2D"]
    plan = plan_layers(g, s)
    plan.check()
    # Step 3 (ADD) reads the pointwise output and the first conv's output (the residual),
    # and writes its own: 3 tensors of 8x8x8 bytes.
    assert plan.live_bytes[3] == 3 * 512
    assert plan.bound_bytes == max(plan.live_bytes)
    assert plan.bound_bytes <= plan.arena_bytes <= sum(b.size for b in plan.buffers.values())
    # The conv scratch (int16 im2col column pairs of 3x3x3) lives in step 0 only.
    assert plan.buffers["scratch0"].size == conv_scratch_per_tap() * 27 > 0
    assert plan.live_during(0).count("scratch0") == 1
    # RESHAPE's output shares its input's storage.
    reshape = next(op for op in g if op.type == "RESHAPE")
    assert plan.tensor_offset(reshape.outputs[0]) == plan.tensor_offset(reshape.inputs[0])
    # The model output stays live to the end, so the host can read it after the run.
    out = f"t{g.outputs[0]}"
    assert plan.buffers[out].last == len(s) - 1


def test_random_lifetimes_never_overlap_and_respect_the_bound():
    rng = np.random.default_rng(3)
    for _ in range(200):
        bufs = []
        for i in range(int(rng.integers(1, 12))):
            a, b = sorted(int(v) for v in rng.integers(0, 8, 2))
            bufs.append(BufferUse(f"b{i}", int(rng.integers(1, 50)) * 4, a, b))
        plan = plan_arena(bufs)
        plan.check()
        assert plan.arena_bytes >= plan.bound_bytes
        for a, b in itertools.combinations(bufs, 2):
            if a.overlaps(b):
                oa, ob = plan.offsets[a.name], plan.offsets[b.name]
                assert oa + a.size <= ob or ob + b.size <= oa


def test_check_catches_an_overlap():
    plan = plan_arena([BufferUse("a", 8, 0, 1), BufferUse("b", 8, 1, 2)])
    plan.offsets["b"] = plan.offsets["a"]
    try:
        plan.check()
    except AssertionError:
        return
    raise AssertionError("overlap not detected")


def test_schedule_round_trips_as_data():
    g = parse_model(small_cnn(), "small")
    s = layer_schedule(g)
    s.steps.append(Step(2, "L02_part", out_channels=(0, 4), in_channels=(0, 4),
                        accumulator="acc0", first=False, kernel="approx", params={"skip": 3}))
    d = s.to_json_dict()
    assert d["steps"][0] == {"op": 0, "name": "L00_CONV_2D"}
    back = Schedule.from_json_dict(d)
    assert back.steps == s.steps and back.kind == "layers"
    assert back.steps[0].whole and not back.steps[-1].whole

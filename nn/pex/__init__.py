"""Partial execution (Pex, issue 11): schedules that never materialise full buffers.

`chains` finds the operators that can run a slice of channels at a time, `memory` and `search`
find the segmentation with the smallest peak (and `peak_bound_bytes`), `schedule` turns it into
steps (`--schedule pex[:N]`, with `patches` for row bands of the first layers), `buffers` and
`planner` derive and place slices, accumulators and whole tensors from any such steps,
`codegen` emits their kernel calls, `report`, `plot` and `cli` compare a Pex run with layer by
layer, and `resolution` re-shapes a network for the largest-input-that-fits study.
"""

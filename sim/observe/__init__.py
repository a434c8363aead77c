"""Observers of a run: the profiler (call tracker, per-line costs) and the memory tracker. Each
registers its own hooks with the engine and adds its part to the RunResult; observing never
changes what the firmware does or its cycle count."""

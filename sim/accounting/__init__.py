"""Where the cycle model is applied to the blocks that run: block by block in Python (the
engine itself, sim/core/engine.py), in batches with numpy (batched.py) or in C (native.py).
make_simulation (sim/simulation.py) chooses one; all give the same numbers.

An accounting path is a subclass of `Simulation` that replaces what the block-by-block path
does per block, and keeps the engine's interface for everything that reads the run's state:
- `cycles`, `instructions` and `_current` (the running block) are exact whenever read;
- `_add_python_block_hook` / `_add_hooks`: the per-block hook;
- `_translate`: a new block (the batched and native paths also table it);
- `_add_cycles`, `_flash_read_timer`, `_add_code_hook`: charges made while a block runs;
- `_attach(observer)`: the observers whose per-block work the path does itself;
- `_after_emulation`, `_finish_counts`: what stopped a run, and the per-block counters at the
  end (executions, extra and lost cycles, flash stalls, the observers' trackers).
"""

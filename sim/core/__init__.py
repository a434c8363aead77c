"""The machine: the engine's run loop, block translation, the memory map and firmware loading,
Unicorn's C API, stops and faults, and the assembly of the run's result."""

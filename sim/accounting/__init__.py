"""Where the cycle model is applied to the blocks that run: block by block in Python (the
engine itself), in batches with numpy, or in C (the native hot path)."""

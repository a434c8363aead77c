"""Approximate kernels (issue 12): significance of MAC positions, per-layer skip configurations,
a bit-exact host model of the approximate network, generated C kernels that skip the least
significant positions, and the design-space exploration behind `mcusim dse`.

Armeniakos, Mentzos, Soudris, "Accelerating TinyML Inference on Microcontrollers through
Approximate Kernels" (2024) is the method: weights are unpacked per MAC position, positions whose
mean relative contribution to the accumulators is lowest are dropped, and the kept ones stay
exact TFLite int8 arithmetic.
"""

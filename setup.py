"""The native hot path (sim/native/*.c) as an optional compiled part of the install.

It is plain C loaded with ctypes (no Python C API); if it cannot be compiled, the install
goes on and mcusim runs on its pure-Python path.
"""

from setuptools import Extension, setup

SOURCES = ["sim/native/hotpath.c", "sim/native/profile.c", "sim/native/memory.c",
           "sim/native/util.c", "sim/native/interrupt.c"]

setup(ext_modules=[Extension("mcusim.sim._hotpath", SOURCES, depends=["sim/native/hotpath.h"],
                             optional=True, extra_compile_args=["-O2", "-std=c99"])])

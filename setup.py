"""The native hot path (sim/accounting/hotpath/*.c) as an optional compiled part of the install.

It is plain C loaded with ctypes (no Python C API); if it cannot be compiled, the install
goes on and mcusim runs on its pure-Python path.
"""

from setuptools import Extension, setup

SOURCES = [f"sim/accounting/hotpath/{name}.c"
           for name in ("hotpath", "profile", "memory", "util", "interrupt", "align")]

setup(ext_modules=[Extension("mcusim.sim.accounting._hotpath", SOURCES,
                             depends=["sim/accounting/hotpath/hotpath.h"],
                             optional=True, extra_compile_args=["-O2", "-std=c99"])])

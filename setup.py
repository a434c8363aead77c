"""The native parts as optional compiled parts of the install; if one cannot be compiled, the
install goes on and mcusim runs on its pure-Python path there.

- the hot path (sim/accounting/hotpath/*.c): plain C loaded with ctypes (no Python C API);
- the Thumb decoder (isa/native/*.c): a Python C API module, mcusim.isa._thumb_decode, used by
  isa/decode.py.
"""

from setuptools import Extension, setup

SOURCES = [f"sim/accounting/hotpath/{name}.c"
           for name in ("hotpath", "profile", "memory", "util", "interrupt", "align")]
DECODER = [f"isa/native/{name}.c" for name in ("thumb_decode", "thumb_narrow", "thumb_wide",
                                                 "thumb_wide_more", "thumb_it", "thumb_text",
                                                 "thumb_system", "thumb_dsp", "thumb_memory",
                                                 "thumb_fp", "thumb_build", "encoding_memo")]
FLAGS = ["-O2", "-std=c99"]

setup(ext_modules=[
    Extension("mcusim.sim.accounting._hotpath", SOURCES,
              depends=["sim/accounting/hotpath/hotpath.h"], optional=True,
              extra_compile_args=FLAGS),
    Extension("mcusim.isa._thumb_decode", DECODER,
              depends=[f"isa/native/{name}.h"
                       for name in ("thumb_decode", "thumb_narrow", "thumb_it",
                                    "encoding_memo")],
              optional=True, extra_compile_args=FLAGS),
])

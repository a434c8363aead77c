"""The native parts as optional compiled parts of the install; if one cannot be compiled, the
install goes on and mcusim runs on its pure-Python path there.

- the hot path (sim/accounting/hotpath/*.c): plain C loaded with ctypes (no Python C API);
- the Thumb decoder (isa/native/thumb_*.c, encoding_memo.c): a Python C API module,
  mcusim.isa._thumb_decode, used by isa/decode.py;
- the Cortex-M3/M4 block timing and the flash's sequential stalls (isa/native/block_timing.c,
  block_insn.c, flash_stalls.c): a Python C API module, mcusim.isa._block_timing, used by
  isa/table_timing.py and memory/flash.py.
- the block cache's shape indices (isa/native/shape_index.c: mcusim.isa._shape_index,
  isa/shape_index.py);
- DecodedSpan's index (isa/native/decoded_span.c: mcusim.isa._decoded_span, isa/decode.py) and
  the hook candidate choice (sim/core/native/hook_choice.c: mcusim.sim.core._hook_choice,
  sim/core/code_map.py): small Python C API modules of their own.
"""

from setuptools import Extension, setup

SOURCES = [f"sim/accounting/hotpath/{name}.c"
           for name in ("hotpath", "profile", "memory", "util", "interrupt", "align", "tlb")]
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
    Extension("mcusim.isa._block_timing",
              [f"isa/native/{name}.c" for name in ("block_timing", "block_insn", "flash_stalls")],
              depends=["isa/native/block_insn.h", "isa/native/flash_stalls.h"], optional=True,
              extra_compile_args=FLAGS),
    Extension("mcusim.isa._shape_index", ["isa/native/shape_index.c"], optional=True,
              extra_compile_args=FLAGS),
    Extension("mcusim.isa._decoded_span", ["isa/native/decoded_span.c"], optional=True,
              extra_compile_args=FLAGS),
    Extension("mcusim.sim.core._hook_choice", ["sim/core/native/hook_choice.c"], optional=True,
              extra_compile_args=FLAGS),
])

#!/usr/bin/env python3
"""Self-check of the int8 kernels and tests/int8_ref.py without a simulator.

For each kernel test program: compile it natively (host gcc, as a shared
library with main renamed), run it, read its exported globals through
ctypes and compare with the numpy reference. Then run the mps2-an386 build
under QEMU and check that its printed checksum equals the FNV-1a of the
host output, i.e. the Arm build computed the same tensor. Finally fuzz
int8_requantize against the reference's requantize.

Usage (from anywhere): python3 kernels_c/tools/host_check.py [--no-qemu]
Needs: gcc, numpy; for the QEMU part qemu-system-arm and `make -C kernels_c`.
"""

import ctypes
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

KC = Path(__file__).resolve().parents[1]
REPO = KC.parent
sys.path.insert(0, str(REPO / "tests"))
import int8_ref  # noqa: E402

QEMU = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
        "-serial", "stdio", "-semihosting-config", "enable=on,target=native"]


def build_so(srcs, out: Path) -> ctypes.CDLL:
    subprocess.run(["gcc", "-std=c11", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra",
                    "-Werror", "-Dmain=prog_main", f"-I{KC}/tools/host", f"-I{KC}/include",
                    *map(str, srcs), "-o", str(out)], check=True)
    return ctypes.CDLL(str(out))


def symbol_sizes(so: Path) -> dict:
    out = subprocess.run(["nm", "-S", "--defined-only", str(so)], check=True,
                         capture_output=True, text=True).stdout
    fields = (line.split() for line in out.splitlines())
    return {f[3]: int(f[1], 16) for f in fields if len(f) == 4}


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def qemu_checksum(prog: str) -> int:
    elf = KC / "build" / "mps2-an386" / f"{prog}.elf"
    out = subprocess.run([*QEMU, "-kernel", str(elf)], check=True, capture_output=True,
                         text=True, timeout=60, cwd=REPO).stdout
    line = next(x for x in out.splitlines() if x.startswith(f"{prog} checksum:"))
    return int(line.split()[-1], 16)


def check_prog(prog: str, tmp: Path, use_qemu: bool) -> bool:
    so = tmp / f"{prog}.so"
    lib = build_so([KC / "src" / f"{prog}.c", KC / "common" / "int8_kernels.c",
                    KC / "common" / "test_util.c"], so)
    sizes = symbol_sizes(so)
    if lib.prog_main() != 0:
        print(f"{prog}: host run failed")
        return False

    def read_symbol(name: str) -> bytes:
        return ctypes.string_at(ctypes.addressof(ctypes.c_char.in_dll(lib, name)), sizes[name])

    expected, actual = int8_ref.CHECKS[prog](read_symbol)
    ok = np.array_equal(expected, actual)
    spread = f"min {actual.min()} max {actual.max()} distinct {np.unique(actual).size}"
    msg = f"{prog}: ref {'OK' if ok else 'MISMATCH'} ({spread})"
    if not ok:
        msg += f", {np.count_nonzero(expected != actual)} of {actual.size} differ"
    if use_qemu:
        same = qemu_checksum(prog) == fnv1a(read_symbol(f"{prog}_output"))
        ok &= same
        msg += f", qemu checksum {'OK' if same else 'MISMATCH'}"
    print(msg)
    return ok


def fuzz_requantize(tmp: Path, n: int = 20000) -> bool:
    lib = build_so([KC / "tools" / "host" / "requant.c"], tmp / "requant.so")
    f = lib.host_requantize
    f.restype = ctypes.c_int32
    f.argtypes = [ctypes.c_int32] * 3
    rng = np.random.default_rng(1)
    acc = rng.integers(-2**31, 2**31, n)
    acc[: n // 2] >>= rng.integers(0, 31, n // 2)       # many small values too
    mult = rng.integers(2**30, 2**31, n)
    mult[:4] = [2**31 - 1, 2**30, -2**31, -2**31]      # incl. saturation case
    acc[:4] = [-2**31, 7, -2**31, 5]
    shift = rng.integers(-31, 8, n)
    got = np.array([f(int(a), int(m), int(s)) for a, m, s in zip(acc, mult, shift, strict=True)])
    want = int8_ref.requantize(acc, mult, shift)
    want = (want + 2**31) % 2**32 - 2**31                # C returns int32
    bad = np.count_nonzero(got != want)
    print(f"requantize fuzz: {'OK' if bad == 0 else f'{bad} MISMATCHES'} ({n} cases)")
    return bad == 0


def main() -> int:
    use_qemu = "--no-qemu" not in sys.argv
    if use_qemu:
        subprocess.run(["make", "-C", str(KC), "-s", f"-j{os.cpu_count()}",
                        "BOARDS=mps2-an386"], check=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ok = all([check_prog(p, tmp, use_qemu) for p in int8_ref.CHECKS])
        ok &= fuzz_requantize(tmp)
    print("ALL OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

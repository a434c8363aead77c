"""Cortex-M core descriptions (`isa/cores/*.toml`): what the emulator and the SCB need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mcusim.base.tomlfile import Fields, as_bool, as_str, as_uint32, load_toml

CORES_DIR = Path(__file__).parent / "cores"


@dataclass(frozen=True)
class CoreSpec:
    name: str
    arch: str
    unicorn_model: str  # suffix of unicorn.arm_const.UC_CPU_ARM_*
    cpuid: int
    has_dwt_cyccnt: bool
    has_divide: bool
    # Bit-band aliases of SRAM and peripherals (Cortex-M3/M4 only; sim/devices/bitband.py).
    has_bitband: bool = False
    # SCB CCR at reset and its writable bits (ARMv7-M ARM B3.2.8; read-only on ARMv6-M).
    ccr_reset: int = 0x200
    ccr_writable: int = 0x31B
    has_vtor: bool = True  # optional on ARMv6-M: the Cortex-M0 has none (RAZ/WI)

    @property
    def is_v6m(self) -> bool:
        return self.arch == "armv6-m"


def available_cores() -> list[str]:
    return sorted(p.stem for p in CORES_DIR.glob("*.toml"))


def load_core(name: str) -> CoreSpec:
    path = CORES_DIR / f"{name}.toml"
    if not path.is_file():
        raise ValueError(f"unknown core {name!r}; known cores: {', '.join(available_cores())}")
    f = Fields(load_toml(path), path, "").table("core")
    assert f is not None
    return CoreSpec(
        name=f.get("name", as_str, "a core name"),
        arch=f.get("arch", as_str, "an architecture such as \"armv7e-m\""),
        unicorn_model=f.get("unicorn_model", as_str, "a Unicorn CPU model such as \"CORTEX_M4\""),
        cpuid=f.get("cpuid", as_uint32, "the SCB CPUID value"),
        has_dwt_cyccnt=f.get("has_dwt_cyccnt", as_bool, "true or false"),
        has_divide=f.get("has_divide", as_bool, "true or false"),
        has_bitband=f.get("has_bitband", as_bool, "true or false", default=False,
                          required=False),
        ccr_reset=f.get("ccr_reset", as_uint32, "the SCB CCR reset value", default=0x200,
                        required=False),
        ccr_writable=f.get("ccr_writable", as_uint32, "the CCR bits software can write",
                           default=0x31B, required=False),
        has_vtor=f.get("has_vtor", as_bool, "true or false", default=True, required=False),
    )

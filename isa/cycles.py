"""Per-core cycle tables (`isa/cycles/CORE.toml`): costs per instruction class, with sources.

The table says what each class costs and which pipeline effects the core has; the model in
`mcusim.isa.timing` applies them. Every number in the files cites its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mcusim.base.errors import InputError
from mcusim.base.tomlfile import Fields, as_bool, as_int, as_str, load_toml

CYCLES_DIR = Path(__file__).parent / "cycles"

# Classes whose cost depends on operand values: the model charges the minimum statically and
# the rest per execution.
RANGED = ("div", "mull", "mlal")
FALLBACK = {"isb": "barrier"}
EXCEPTION_LATENCIES = ("entry", "exit", "tail_chain", "late_arrival")


@dataclass(frozen=True)
class CycleTable:
    core: str
    branch_refill: int
    unaligned_target_extra: int
    load_store_pipelining: bool
    issue_width: int
    mul_small_cycles: int
    mispredict_penalty: int
    load_use_stall: int
    load_use_alu: bool
    fp_result_stall: int
    fp_div_overlap: bool
    paired_multiple: bool
    writeback_load_chains: bool
    # Cortex-M33 (jnk0le's RP2350 measurements, isa/cycles/README.md "M33").
    pairs_16bit: bool  # the limited dual issue of two 16-bit instructions
    fp_mac_shadow: int  # cycles after an FP MAC in which no FP instruction issues
    two_stage_flags_extra: int  # MULS.N and flag-setting shifted constants take this more
    late_result_stall: int  # wait for a MAC, *XTA* or shifted-operand result
    classes: dict[str, int]
    per_register: dict[str, int]
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    source: Path | None = None
    # [exceptions]: latencies of exception entry, return, tail-chain and late arrival
    # (EXCEPTION_LATENCIES), zero wait states; a table without them charges none.
    exceptions: dict[str, int] = field(default_factory=dict)

    def cost(self, cls: str) -> int:
        """Base cost of a class. A refinement a table does not list (ISB) costs what its
        general class does; an instruction the core lacks cannot run there, and a single cycle
        keeps the count going until the emulator faults on it."""
        if cls not in self.classes and cls in FALLBACK:
            cls = FALLBACK[cls]
        return self.classes.get(cls, 1)


def available_tables() -> list[str]:
    return sorted(p.stem for p in CYCLES_DIR.glob("*.toml"))


def load_cycle_table(core: str) -> CycleTable:
    path = CYCLES_DIR / f"{core}.toml"
    if not path.is_file():
        raise InputError(
            f"no cycle table for core {core!r} (expected {path}); available: "
            + ", ".join(available_tables())
        )
    top = Fields(load_toml(path, InputError), path, "", InputError)
    model = top.table("model")
    assert model is not None
    classes = top.table("classes")
    assert classes is not None
    per_register = top.table("per_register", required=False)
    ranges = top.table("ranges", required=False)
    exceptions = top.table("exceptions", required=False)

    def positive(v: object) -> int:
        n = as_int(v)
        if n < 0:
            raise ValueError("must not be negative")
        return n

    def span(v: object) -> tuple[int, int]:
        if not isinstance(v, list) or len(v) != 2:
            raise ValueError("")
        lo, hi = positive(v[0]), positive(v[1])
        if hi < lo:
            raise ValueError("max below min")
        return lo, hi

    return CycleTable(
        core=model.get("core", as_str, "the core name"),
        branch_refill=model.get("branch_refill", positive, "cycles (P)"),
        unaligned_target_extra=model.get("unaligned_target_extra", positive, "cycles",
                                         default=0),
        load_store_pipelining=model.get("load_store_pipelining", as_bool, "true or false",
                                        default=False),
        issue_width=model.get("issue_width", positive, "1 or 2", default=1),
        mul_small_cycles=model.get("mul_small_cycles", positive, "cycles", default=32),
        mispredict_penalty=model.get("mispredict_penalty", positive, "cycles", default=0),
        load_use_stall=model.get("load_use_stall", positive, "cycles", default=0),
        load_use_alu=model.get("load_use_alu", as_bool, "true or false", default=False),
        fp_result_stall=model.get("fp_result_stall", positive, "cycles", default=0),
        fp_div_overlap=model.get("fp_div_overlap", as_bool, "true or false", default=False),
        paired_multiple=model.get("paired_multiple", as_bool, "true or false", default=False),
        writeback_load_chains=model.get("writeback_load_chains", as_bool, "true or false",
                                        default=True),
        pairs_16bit=model.get("pairs_16bit", as_bool, "true or false", default=False),
        fp_mac_shadow=model.get("fp_mac_shadow", positive, "cycles", default=0),
        two_stage_flags_extra=model.get("two_stage_flags_extra", positive, "cycles",
                                        default=0),
        late_result_stall=model.get("late_result_stall", positive, "cycles", default=0),
        classes={k: classes.get(k, positive, "cycles") for k in classes.data},
        per_register={k: per_register.get(k, positive, "cycles per register")
                      for k in per_register.data} if per_register else {},
        ranges={k: ranges.get(k, span, "[min, max] cycles") for k in ranges.data}
        if ranges else {},
        source=path,
        exceptions={k: exceptions.get(k, positive, "cycles", default=0, required=False)
                    for k in EXCEPTION_LATENCIES} if exceptions else {},
    )

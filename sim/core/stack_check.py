"""Whether a fault is a stack overflow: SP below the stack's limit (`__StackLimit` of the
linker script) or outside every RAM region when the run faults. Checked at every fault, with or
without memory accounting, so a deep recursion is named for what it is instead of only as a
memory fault below SRAM."""

from __future__ import annotations

from mcusim.memory.board import BoardSpec
from mcusim.sim.core.firmware import SymbolTable


def overflow_note(sp: int, board: BoardSpec, symbols: SymbolTable) -> str | None:
    limit = symbols.addresses().get("__StackLimit")
    if limit is not None and sp < limit:
        return (f"stack overflow: SP is {sp:#010x}, {limit - sp} bytes below the stack's limit "
                f"{limit:#010x} (__StackLimit)")
    in_ram = any(lo < sp <= hi for r in board.regions if r.is_ram for lo, hi in r.windows())
    if not in_ram:
        return (f"stack overflow: SP reached {sp:#010x}, the bottom of or outside every RAM "
                f"region of {board.name}")
    return None


def budget_message(stack_bytes: int, budget: int, where: str) -> str:
    return (f"the stack reached {stack_bytes:,} bytes at {where}, past --max-stack {budget:,}; "
            "the run stops there")

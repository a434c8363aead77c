"""Fault reports: what stopped the run, where, and the call stack that led there."""

from __future__ import annotations

from unicorn import UcError
from unicorn.arm_const import (
    UC_ARM_REG_LR,
    UC_ARM_REG_PC,
    UC_ARM_REG_R0,
    UC_ARM_REG_SP,
    UC_ARM_REG_XPSR,
)
from unicorn.unicorn_const import (
    UC_MEM_FETCH,
    UC_MEM_FETCH_PROT,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_READ,
    UC_MEM_READ_PROT,
    UC_MEM_READ_UNMAPPED,
    UC_MEM_WRITE,
    UC_MEM_WRITE_PROT,
    UC_MEM_WRITE_UNMAPPED,
)

from mcusim.base.errors import ExitCode
from mcusim.memory.board_spec import BoardSpec
from mcusim.sim.core.firmware import SymbolTable

FAULT_EXIT_CODES = {
    "memory_fault": ExitCode.MEMORY_FAULT,
    "undefined_instruction": ExitCode.UNDEFINED_INSTRUCTION,
    "escalated_fault": ExitCode.ESCALATED_FAULT,
    "limit": ExitCode.LIMIT_REACHED,
    "reset": ExitCode.RESET_REQUESTED,
    "memory_budget": ExitCode.MEMORY_BUDGET,  # --max-stack passed during the run
    "interrupted": ExitCode.INTERRUPTED,
    "terminated": ExitCode.TERMINATED,
}

# QEMU's exception numbers as Unicorn passes them to UC_HOOK_INTR (target/arm/cpu.h).
EXCP_UDEF = 1
EXCP_SWI = 2
EXCP_PREFETCH_ABORT = 3
EXCP_DATA_ABORT = 4
EXCP_BKPT = 7
EXCP_EXCEPTION_EXIT = 8
EXCP_NOCP = 17
EXCP_INVSTATE = 18
EXCP_STKOF = 19
EXCP_UNALIGNED = 22

_ACCESS = {
    UC_MEM_READ: "read", UC_MEM_WRITE: "write", UC_MEM_FETCH: "instruction fetch",
    UC_MEM_READ_UNMAPPED: "read", UC_MEM_WRITE_UNMAPPED: "write",
    UC_MEM_FETCH_UNMAPPED: "instruction fetch", UC_MEM_WRITE_PROT: "write",
    UC_MEM_READ_PROT: "read", UC_MEM_FETCH_PROT: "instruction fetch",
}


def describe_memory_fault(board: BoardSpec, access: int, address: int, size: int) -> str:
    what = _ACCESS.get(access, "access")
    region = board.region_at(address)
    if access == UC_MEM_WRITE_PROT and region is not None:
        return (f"{size}-byte write to {address:#010x} in {region.kind} region '{region.name}', "
                "which is read-only while the program runs (BusFault, escalated to HardFault)")
    if access in (UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT):
        return (f"instruction fetch from {address:#010x}, which is not executable memory "
                "(a jump to a bad address; MemManage/BusFault, escalated to HardFault)")
    return (f"{size}-byte {what} at {address:#010x}, which is in no memory region or peripheral "
            f"range of board {board.name} (BusFault, escalated to HardFault)")


def describe_exception(intno: int, pc: int, insn_halfword: int | None) -> tuple[str, str]:
    """(kind, message) for a CPU exception Unicorn raised that the run cannot continue from."""
    if intno == EXCP_UDEF:
        return ("undefined_instruction",
                f"{_opcode(insn_halfword)} at {pc:#010x} is not an instruction of this core "
                "(UsageFault UNDEFINSTR, escalated to HardFault)")
    if intno == EXCP_INVSTATE:
        return ("undefined_instruction",
                f"branch to an ARM-state address {pc:#010x} (bit 0 clear): Cortex-M executes "
                "Thumb only (UsageFault INVSTATE, escalated to HardFault)")
    if intno == EXCP_NOCP:
        return ("undefined_instruction",
                f"coprocessor instruction at {pc:#010x} with the coprocessor disabled or absent "
                "(UsageFault NOCP); enable the FPU in CPACR, or build for this core's FPU")
    if intno == EXCP_UNALIGNED:
        return ("memory_fault", f"unaligned access at {pc:#010x} (UsageFault UNALIGNED)")
    if intno == EXCP_BKPT:
        imm = insn_halfword & 0xFF if insn_halfword is not None else -1
        return ("escalated_fault",
                f"BKPT #{imm:#x} at {pc:#010x} with no debugger attached: the core escalates it "
                "to HardFault (only BKPT 0xAB, semihosting, is answered)")
    if intno == EXCP_SWI:
        imm = insn_halfword & 0xFF if insn_halfword is not None else -1
        return ("escalated_fault",
                f"SVC #{imm} at {pc:#010x}: SVCall cannot preempt at the current execution "
                "priority and neither can HardFault, so the core locks up")
    if intno == EXCP_EXCEPTION_EXIT:
        return ("escalated_fault",
                f"branch to the EXC_RETURN value {pc:#010x} in Thread mode, where no exception "
                "is active to return from (an ordinary, non-executable address there)")
    if intno == EXCP_STKOF:
        return ("memory_fault", f"stack overflow past the stack limit at {pc:#010x}")
    return ("escalated_fault", f"CPU exception {intno} at {pc:#010x}, which mcusim does not model")


def _opcode(halfword: int | None) -> str:
    if halfword is None:
        return "the opcode (unreadable)"
    return f"opcode {halfword:#06x}" + (" (first halfword of a 32-bit encoding)"
                                        if halfword >> 11 in (0b11101, 0b11110, 0b11111) else "")


def describe_uc_error(error: UcError, pc: int,
                      insn_halfword: int | None = None) -> tuple[str, str]:
    text = str(error)
    if "INSN_INVALID" in text:
        return "undefined_instruction", (f"{_opcode(insn_halfword)} at {pc:#010x} is not an "
                                         "instruction of this core")
    if "UNMAPPED" in text or "PROT" in text or "UNALIGNED" in text:
        return "memory_fault", f"{text} at {pc:#010x}"
    return "escalated_fault", f"{text} at {pc:#010x}"


def registers(uc) -> dict[str, int]:  # noqa: ANN001 - a Unicorn instance
    regs = {f"r{i}": uc.reg_read(UC_ARM_REG_R0 + i) for i in range(13)}
    regs["sp"] = uc.reg_read(UC_ARM_REG_SP)
    regs["lr"] = uc.reg_read(UC_ARM_REG_LR)
    regs["pc"] = uc.reg_read(UC_ARM_REG_PC)
    regs["xpsr"] = uc.reg_read(UC_ARM_REG_XPSR)
    return regs


def _follows_call(uc, ret: int) -> bool:  # noqa: ANN001
    """Whether the instruction before return address `ret` is a BL or BLX (a call site)."""
    addr = ret & ~1
    try:
        hw = uc.mem_read(addr - 4, 4)
    except UcError:
        return False
    first = int.from_bytes(hw[0:2], "little")
    second = int.from_bytes(hw[2:4], "little")
    is_bl = (first & 0xF800) == 0xF000 and (second & 0xC000) == 0xC000  # BL / BLX imm
    is_blx_reg = (second & 0xFF87) == 0x4780  # BLX Rm (16-bit)
    return is_bl or is_blx_reg


def call_stack(uc, symbols: SymbolTable, board: BoardSpec, depth: int = 16,  # noqa: ANN001
               scan_words: int = 512) -> list[str]:
    """PC, then LR, then return addresses found on the stack, innermost first.

    Optimised firmware keeps no frame pointers, so this scans the stack for words that are
    Thumb return addresses into known functions just after a BL/BLX: the usual heuristic of
    debuggers without unwind tables.
    """
    pc = uc.reg_read(UC_ARM_REG_PC)
    lr = uc.reg_read(UC_ARM_REG_LR)
    sp = uc.reg_read(UC_ARM_REG_SP)
    frames = [symbols.describe(pc)]
    if lr & 1 and symbols.function_at(lr & ~1) and _follows_call(uc, lr):
        frames.append(symbols.describe(lr & ~1))
    region = board.region_at(sp, 4)
    if region is None:
        return frames
    top = next(hi for lo, hi in region.windows() if lo <= sp < hi)
    addr = sp
    while addr + 4 <= top and addr < sp + 4 * scan_words and len(frames) < depth:
        word = int.from_bytes(uc.mem_read(addr, 4), "little")
        if word & 1 and symbols.function_at(word & ~1) and _follows_call(uc, word):
            entry = symbols.describe(word & ~1)
            if frames[-1] != entry:
                frames.append(entry)
        addr += 4
    return frames

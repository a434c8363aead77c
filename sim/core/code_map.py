"""Where an ELF's Thumb code is, so that code hooks can be placed before the run starts.

Unicorn only instruments blocks translated after a code hook exists. Adding a hook while the
run is going means stopping the emulation and starting it again at the block; on Unicorn 2.1
such a restart, with memory hooks present, can leave stale IT-block state behind after a
conditional store, so that a later `blx` is skipped (the program then runs differently when
it is observed: issue 14). So the engine places every code hook it can foresee before the
first `emu_start`, from a decode of the ELF's code, and restarts only for code it could not
see (code outside the executable sections, e.g. written to RAM at run time).

Code spans are the executable sections minus the data the ARM ELF's mapping symbols mark
(`$d` up to the next `$t`/`$a`: literal pools, jump tables), so that a linear decode stays in
step with the instructions.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import capstone
from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from mcusim.isa.timing import TimingModel
from mcusim.sim.core.blocks import Block, translate


@dataclass(frozen=True)
class CodeSpan:
    """Thumb instructions from `address` on, as the ELF holds them (at their run address)."""

    address: int
    code: bytes


def code_spans(path: Path) -> tuple[CodeSpan, ...]:
    """The ELF's code, without the data islands its mapping symbols mark. An ELF this cannot
    read gives no spans (the engine then adds hooks as blocks appear)."""
    try:
        stat = path.stat()
        return _spans(str(path), stat.st_mtime_ns, stat.st_size)
    except (OSError, ELFError, ValueError, KeyError, AttributeError, TypeError):
        return ()


@functools.lru_cache(maxsize=64)
def _spans(path: str, _mtime: int, _size: int) -> tuple[CodeSpan, ...]:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        sections = [(i, s) for i, s in enumerate(elf.iter_sections())
                    if s["sh_flags"] & SH_FLAGS.SHF_EXECINSTR and s["sh_type"] == "SHT_PROGBITS"
                    and s["sh_size"]]
        marks: dict[int, list[tuple[int, bool]]] = {i: [] for i, _ in sections}
        symtab = elf.get_section_by_name(".symtab")
        if symtab is not None and hasattr(symtab, "iter_symbols"):
            for sym in symtab.iter_symbols():
                name, shndx = sym.name, sym["st_shndx"]
                if shndx in marks and name[:2] in ("$t", "$a", "$d"):
                    marks[shndx].append((sym["st_value"] & ~1, name[:2] != "$d"))
        spans: list[CodeSpan] = []
        for i, sec in sections:
            base, data = sec["sh_addr"], sec.data()
            points = sorted(marks[i]) or [(base, True)]
            if points[0][0] > base:
                points.insert(0, (base, True))
            for k, (start, is_code) in enumerate(points):
                end = points[k + 1][0] if k + 1 < len(points) else base + len(data)
                if is_code and end > start:
                    spans.append(CodeSpan(start, data[start - base:end - base]))
        return tuple(spans)


def decode_span(span: CodeSpan, timing: TimingModel) -> list[Block]:
    """The instructions of the span that may need a code hook, each as a block with the
    instruction after it (a run-time SP write is read there). A fast decode without operand
    details finds the candidates: instructions that may write SP, multiplies and divides (the
    operand-timed classes), WFI/WFE/SEV, CPS/MSR; the full classification then decides,
    exactly as for a block Unicorn translates. An undecodable halfword is stepped over."""
    blocks: list[Block] = []
    offset, code, md = 0, span.code, _lite()
    while offset + 2 <= len(code):
        insns = list(md.disasm_lite(code[offset:], span.address + offset))
        if not insns:
            offset += 2
            continue
        for k, (address, size, mnemonic, operands) in enumerate(insns):
            if _CANDIDATE.search(mnemonic) or _NAMES_SP.search(operands):
                end = address + size + (insns[k + 1][1] if k + 1 < len(insns) else 0)
                at = address - span.address
                blocks.append(translate(code[at:end - span.address], address, timing, None))
        last = insns[-1]
        offset = last[0] + last[1] - span.address
    return blocks


# ldrd|strd|ldm|stm|ldrex|strex: FAULTS, alignment checks (sim/core/fault_traps.py)
_CANDIDATE = re.compile(r"div|mul|ml|wf|sev|cps|msr|ldrd|strd|ldm|stm|ldrex|strex")
# SP as the destination, written back, or in a register list (what can set it to a run-time
# value); SP only as a base or source leaves it unchanged.
_NAMES_SP = re.compile(r"^sp\b|\bsp!|\{[^}]*\bsp\b")


@functools.lru_cache(maxsize=1)
def _lite() -> capstone.Cs:
    return capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)

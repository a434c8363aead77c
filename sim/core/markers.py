"""Region markers: the firmware's mcusim_region_begin/end(name) calls and the --region symbol
pairs, recorded as events at the exact instruction and cycle. A mixin of `Simulation`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import unicorn.arm_const as arm
from unicorn import UC_HOOK_CODE, Uc, UcError

from mcusim.base.errors import UsageError
from mcusim.sim.core.regions import RegionEvent, region_counts
from mcusim.sim.devices.semihosting import read_cstring

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation

REGION_BEGIN = "mcusim_region_begin"
REGION_END = "mcusim_region_end"


class RegionMarkers:
    def _add_marker_hooks(self: Simulation, uc: Uc) -> None:
        for name, begin in ((REGION_BEGIN, True), (REGION_END, False)):
            sym = self.firmware.symbols.get(name)
            if sym is not None:
                uc.hook_add(UC_HOOK_CODE, self._on_region_marker, begin,
                            begin=sym.address, end=sym.address)
        for start, end in self.symbol_regions:
            name = f"{start}:{end}"
            for symbol, begin in ((start, True), (end, False)):
                sym = self.firmware.symbols.get(symbol)
                if sym is None:
                    raise UsageError(
                        f"--region {name}: no symbol {symbol!r} in {self.firmware.path}; "
                        "give two function or label names, e.g. start_trigger:stop_trigger")
                uc.hook_add(UC_HOOK_CODE, self._on_symbol_region, (name, begin),
                            begin=sym.address, end=sym.address)

    def _on_region_marker(self: Simulation, uc: Uc, address: int, size: int,
                          begin: bool) -> None:
        self._pc_hint, self._pc_hint_is_access = address, False
        name_ptr = uc.reg_read(arm.UC_ARM_REG_R0)
        try:
            name = read_cstring(uc, name_ptr, limit=256).decode("utf-8", "replace")
        except UcError:
            name = f"<bad name pointer {name_ptr:#x}>"
        self._region_event(name, begin)

    def _on_symbol_region(self: Simulation, uc: Uc, address: int, size: int,
                          spec: tuple[str, bool]) -> None:
        self._pc_hint, self._pc_hint_is_access = address, False
        name, begin = spec
        self._region_event(name, begin)

    def _region_event(self: Simulation, name: str, begin: bool) -> None:
        cycles = self.now()
        self.region_events.append(RegionEvent(name, begin, self._instructions_now(), cycles))
        for watch in self._marker_watchers:
            watch(name, begin)

    def region_cycles(self: Simulation, name: str) -> int | None:
        """Total cycles of a marker region, or None if it never completed."""
        for r in region_counts(self.region_events)[0]:
            if r.name == name:
                return r.cycles
        return None

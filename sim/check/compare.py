"""The baseline file and the verdict of each entry against it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcusim.base.errors import InputError, MissingInputError
from mcusim.sim.check.manifest import METRICS, Entry, Manifest, Tolerance
from mcusim.sim.check.measure import Measurement

SCHEMA = "mcusim.check/1"

# Verdicts, worst first: the report and the exit status follow this order.
FAILED = "failed"  # wrong exit code or output, or the entry could not run
REGRESSION = "regression"  # a figure grew beyond its tolerance
NEW = "new"  # no baseline yet
IMPROVED = "improved"  # a figure shrank beyond its tolerance (update the baseline)
CHANGED = "changed"  # moved, within tolerance
PASSED = "passed"
ORDER = (FAILED, REGRESSION, NEW, IMPROVED, CHANGED, PASSED)
FAILING = (FAILED, REGRESSION, NEW)


@dataclass
class MetricChange:
    metric: str
    baseline: int | None
    current: int | None
    tolerance: Tolerance
    verdict: str

    @property
    def delta(self) -> int | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline

    def describe(self) -> str:
        if self.baseline is None:
            return f"{self.metric} {self.current:,} (no baseline)"
        if self.current is None:
            return f"{self.metric}: in the baseline ({self.baseline:,}) but not measured"
        pct = f" ({100 * self.delta / self.baseline:+.2f}%)" if self.baseline else ""
        return (f"{self.metric} {self.baseline:,} -> {self.current:,}{pct}, tolerance "
                f"{self.tolerance}")


@dataclass
class Outcome:
    """One entry's verdict: the worst of its figures' and its functional checks'."""

    entry: Entry
    measurement: Measurement
    verdict: str
    changes: list[MetricChange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # functional failures, in words
    recorded: dict[str, Any] | None = None  # the baseline's record of this entry
    missing: str = "no baseline"  # why there is no usable record, when there is none

    @property
    def failing(self) -> bool:
        return self.verdict in FAILING


def load_baseline(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise MissingInputError(f"{path}: no such baseline; record one with --update") from None
    except OSError as e:
        raise MissingInputError(f"{path}: cannot be read ({e.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a baseline JSON file ({e})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(
            data.get("entries"), dict):
        raise InputError(f"{path}: not a mcusim check baseline (expected a JSON object with "
                         f"\"schema\": \"{SCHEMA}\" and \"entries\")")
    for name, value in data["entries"].items():
        metrics = value.get("metrics") if isinstance(value, dict) else None
        if not isinstance(metrics, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in metrics.values()):
            raise InputError(f"{path}: entry '{name}': expected \"metrics\": an object of "
                             "whole numbers")
    return data["entries"]


def _functional(entry: Entry, m: Measurement) -> list[str]:
    if m.error is not None:
        return [f"could not run: {m.error}"]
    problems = []
    if m.stop != "exit":
        problems.append(f"did not exit: {m.stop.replace('_', ' ')}: {m.stop_message}")
    elif m.exit_code != entry.exit_code:
        problems.append(f"exit code {m.exit_code}, expected {entry.exit_code}")
    if entry.stdout is not None and m.stdout != entry.stdout:
        problems.append(_stdout_difference(m.stdout, entry.stdout))
    return problems


def _stdout_difference(got: str, expected: str) -> str:
    """Where the output first departs from the expected one, in a line."""
    got_lines, want_lines = got.splitlines(keepends=True), expected.splitlines(keepends=True)
    for i, (g, w) in enumerate(zip(got_lines, want_lines, strict=False)):
        if g != w:
            return f"stdout line {i + 1} is {g!r}, expected {w!r}"
    if len(got_lines) > len(want_lines):
        return f"stdout has extra lines from line {len(want_lines) + 1}: " \
               f"{got_lines[len(want_lines)]!r}"
    return f"stdout ends at line {len(got_lines)}; expected line {len(got_lines) + 1}: " \
           f"{want_lines[len(got_lines)]!r}"


def _metric_verdict(baseline: int | None, current: int | None, tol: Tolerance) -> str:
    if baseline is None:
        return NEW
    if current is None:
        return REGRESSION  # a figure the gate watched is gone (a region renamed or removed)
    allowed = tol.allowed(baseline)
    if current > baseline + allowed:
        return REGRESSION
    if current < baseline - allowed:
        return IMPROVED
    return CHANGED if current != baseline else PASSED


def _order(metric: str) -> tuple[int, str]:
    return (METRICS.index(metric), "") if metric in METRICS else (len(METRICS), metric)


def judge(entry: Entry, m: Measurement, recorded: dict[str, Any] | None) -> Outcome:
    problems = _functional(entry, m)
    missing = "no baseline"
    if recorded is not None and recorded.get("board", entry.board) != entry.board:
        # Figures from another board are no reference for this one.
        missing = f"the baseline was recorded on {recorded['board']}"
        recorded = None
    if m.error is not None:
        return Outcome(entry, m, FAILED, problems=problems, recorded=recorded, missing=missing)
    old = recorded.get("metrics", {}) if recorded else {}
    changes = []
    for metric in sorted(set(m.metrics) | set(old), key=_order):
        base = old.get(metric) if recorded else None
        tol = entry.tolerance(metric)
        changes.append(MetricChange(metric, base, m.metrics.get(metric), tol,
                                    _metric_verdict(base, m.metrics.get(metric), tol)))
    verdicts = [c.verdict for c in changes] + ([FAILED] if problems else [])
    if recorded is None:
        verdicts.append(NEW)
    verdict = min(verdicts or [PASSED], key=ORDER.index)
    return Outcome(entry, m, verdict, changes, problems, recorded, missing)


def judge_all(manifest: Manifest, measurements: list[Measurement],
              baseline: dict[str, dict[str, Any]]) -> list[Outcome]:
    return [judge(e, m, baseline.get(e.name)) for e, m in
            zip(manifest.entries, measurements, strict=True)]


def baseline_text(manifest: Manifest, outcomes: list[Outcome],
                  previous: dict[str, dict[str, Any]], base: Path) -> str:
    """The updated baseline: every entry that ran and passed its functional checks gets its
    new figures; an entry that failed keeps what it had (a broken run is no baseline)."""
    entries: dict[str, Any] = {}
    for o in outcomes:
        if o.problems:
            if o.entry.name in previous:
                entries[o.entry.name] = previous[o.entry.name]
            continue
        elf = Path(_relative(o.entry.elf, base))
        entries[o.entry.name] = {"elf": elf.as_posix(), "board": o.entry.board,
                                 "exit_code": o.measurement.exit_code,
                                 "metrics": dict(sorted(o.measurement.metrics.items(),
                                                        key=lambda kv: _order(kv[0])))}
    return json.dumps({"schema": SCHEMA, "manifest": manifest.path.name, "entries": entries},
                      indent=2) + "\n"


def _relative(path: Path, base: Path) -> str:
    return os.path.relpath(path, base)

"""Views of a check's outcomes: a rich table for terminals, Markdown for pull-request comments,
JUnit XML for CI systems. All deterministic: same outcomes, same bytes (no host times)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from rich.table import Table

from mcusim.sim.check.compare import ORDER, PASSED, MetricChange, Outcome

_MARK = {"failed": "FAIL", "regression": "REGRESSION", "new": "NEW", "improved": "improved",
         "changed": "changed", "passed": "ok"}
_STYLE = {"failed": "bold red", "regression": "bold red", "new": "yellow", "improved": "green",
          "changed": "", "passed": ""}


def summary(outcomes: list[Outcome]) -> str:
    counts = Counter(o.verdict for o in outcomes)
    parts = [f"{counts[v]} {v}{'s' if v == 'regression' and counts[v] > 1 else ''}"
             for v in ORDER if counts[v]]
    return f"{len(outcomes)} {'entry' if len(outcomes) == 1 else 'entries'}: " + ", ".join(parts)


def _fmt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _change(c: MetricChange) -> str:
    d = c.delta
    if d is None:
        return "-"
    pct = f" ({100 * d / c.baseline:+.2f}%)" if c.baseline else ""
    return f"{d:+,}{pct}"


def _rows(outcomes: list[Outcome], all_rows: bool) -> list[list[str]]:
    """(entry, metric, baseline, now, change, tolerance, verdict) rows: every figure that moved
    or has no baseline, and every functional problem; with all_rows, unchanged figures too."""
    rows = []
    for o in outcomes:
        for p in o.problems:
            rows.append([o.entry.name, "run", "-", "-", p, "-", "failed"])
        if o.recorded is None and o.measurement.error is None:
            figures = ", ".join(f"{k} {v:,}" for k, v in o.measurement.metrics.items()
                                if k in ("cycles", "peak_ram"))
            rows.append([o.entry.name, "all", "-", figures, o.missing, "-", "new"])
            continue
        for c in o.changes:
            if c.verdict != PASSED or all_rows:
                rows.append([o.entry.name, c.metric, _fmt(c.baseline), _fmt(c.current),
                             _change(c), str(c.tolerance), c.verdict])
    return rows


_HEADER = ("entry", "figure", "baseline", "now", "change", "tolerance", "verdict")


def rich_table(outcomes: list[Outcome], all_rows: bool = False) -> Table | str:
    """The table of changes; only the summary line when nothing moved."""
    rows = _rows(outcomes, all_rows)
    if not rows:
        return f"mcusim check: {summary(outcomes)}; every figure equals its baseline"
    t = Table(title="mcusim check: " + summary(outcomes), title_justify="left")
    for col in _HEADER:
        t.add_column(col, justify="right" if col in ("baseline", "now", "change", "tolerance")
                     else "left", overflow="fold")
    for row in rows:
        verdict = row[-1]
        t.add_row(*row[:-1], _MARK[verdict], style=_STYLE[verdict] or None)
    return t


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(outcomes: list[Outcome], all_rows: bool = False) -> str:
    failing = sum(o.failing for o in outcomes)
    head = "failed" if failing else "passed"
    lines = [f"### mcusim check {head}: {summary(outcomes)}", ""]
    rows = _rows(outcomes, all_rows)
    if not rows:
        lines.append("Every figure equals its baseline.")
    else:
        lines.append("| " + " | ".join(_HEADER) + " |")
        lines.append("|" + "|".join("---:" if h in ("baseline", "now", "change", "tolerance")
                                    else "---" for h in _HEADER) + "|")
        for row in rows:
            row = [*row[:-1], f"**{_MARK[row[-1]]}**" if row[-1] in ("failed", "regression")
                   else _MARK[row[-1]]]
            lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def junit_xml(outcomes: list[Outcome], suite: str) -> str:
    """JUnit XML as Jenkins, GitLab and GitHub test reporters read it: one testcase per entry,
    <failure> for a regression, a failed check or a missing baseline, <error> when the entry
    could not run."""
    failures = sum(o.failing and o.measurement.error is None for o in outcomes)
    errors = sum(o.measurement.error is not None for o in outcomes)
    counts = {"tests": str(len(outcomes)), "failures": str(failures), "errors": str(errors),
              "skipped": "0"}
    root = ET.Element("testsuites", {"name": "mcusim check", **counts})
    ts = ET.SubElement(root, "testsuite", {"name": suite, **counts})
    for o in outcomes:
        case = ET.SubElement(ts, "testcase", {"classname": f"mcusim.check.{suite}",
                                              "name": o.entry.name})
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", {"name": "board", "value": o.entry.board})
        for metric, value in o.measurement.metrics.items():
            ET.SubElement(props, "property", {"name": metric, "value": str(value)})
        if o.measurement.error is not None:
            ET.SubElement(case, "error", {"type": "error",
                                          "message": o.measurement.error}).text = (
                o.measurement.error)
            continue
        if o.failing:
            bad = [c for c in o.changes if c.verdict in ("regression", "new")]
            reasons = o.problems + [c.describe() for c in bad]
            if o.verdict == "new" and o.recorded is None:
                reasons = [*o.problems, f"{o.missing} for this entry (record one with --update)"]
            ET.SubElement(case, "failure", {"type": o.verdict,
                                            "message": "; ".join(reasons)}).text = (
                "\n".join(reasons))
        moved = [c.describe() for c in o.changes if c.verdict != PASSED]
        ET.SubElement(case, "system-out").text = "\n".join(
            moved or ["every figure equals its baseline"])
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"

"""Progress of a long run (stderr, terminals only) and the --irq period warning."""

from __future__ import annotations

import io
import json
import re
import sys
import time

from mcusim.sim.cli import main, progress

ENABLE_IRQ3 = """
    ldr r0, =0xE000E100      @ NVIC_ISER0: enable IRQ 3
    movs r1, #8
    str r1, [r0]
"""


class _Counters:
    def counts_so_far(self) -> tuple[int, int]:
        return 1_234_567, 89


def test_progress_line_is_written_and_erased():
    stream = io.StringIO()
    p = progress.RunProgress(_Counters(), stream, show_after=0, every=0.005)
    p.start()
    time.sleep(0.05)
    p.stop()
    text = stream.getvalue()
    assert "\rmcusim: 1,234,567 cycles, 89 instructions simulated" in text
    assert text.endswith("\r\x1b[K")  # erased before the summary


def test_a_short_run_shows_no_progress():
    stream = io.StringIO()
    p = progress.RunProgress(_Counters(), stream, show_after=10, every=0.005)
    p.start()
    p.stop()
    assert stream.getvalue() == ""


def test_progress_on_a_terminal_changes_nothing_and_stays_off_stdout(kernels, tmp_path, capsys,
                                                                    monkeypatch):
    elf = str(kernels / "nucleo-f446re" / "conv3x3.elf")
    quiet, shown = tmp_path / "quiet.json", tmp_path / "shown.json"
    assert main(["run", elf, "--json", str(quiet)]) == 0
    plain = capsys.readouterr()
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.001)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["run", elf, "--json", str(shown)]) == 0
    cap = capsys.readouterr()
    assert "cycles," in cap.err and "instructions simulated" in cap.err
    assert cap.out == plain.out  # the program's output only
    assert quiet.read_bytes() == shown.read_bytes()


def test_trace_shows_progress_on_a_terminal_and_records_the_same(kernels, tmp_path, capsys,
                                                                 monkeypatch):
    elf = str(kernels / "nucleo-f446re" / "conv3x3.elf")
    main(["trace", elf, "-o", str(tmp_path / "a.mtrace")])
    quiet = capsys.readouterr().err
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.001)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    main(["trace", elf, "-o", str(tmp_path / "b.mtrace")])
    shown = capsys.readouterr().err
    assert "instructions simulated" in shown and "instructions simulated" not in quiet
    counts = [re.search(r"recorded ([\d,]+) accesses", text).group(1) for text in (quiet, shown)]
    assert counts[0] == counts[1] and counts[0] != "0"


def test_an_irq_period_below_the_exception_round_trip_is_warned_of(kernels, tmp_path, capsys):
    out = tmp_path / "i.json"
    main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--irq", "3@100/1",
          "--json", str(out)])
    warnings = json.loads(out.read_text())["warnings"]
    (warning,) = [w for w in warnings if "period" in w]
    assert "a period of 1 cycles is shorter than cortex-m4's exception entry and return" in warning
    assert capsys.readouterr().err.count(warning) == 1  # before the run, once


def test_an_irq_the_program_never_enables_is_warned_of(kernels, tmp_path, capsys):
    out = tmp_path / "i.json"
    main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--irq", "3@100",
          "--json", str(out)])
    (warning,) = json.loads(out.read_text())["warnings"]
    assert warning.startswith("--irq 3@100: IRQ 3 was not enabled in the NVIC")
    assert f"mcusim: warning: {warning}" in capsys.readouterr().err


def test_an_enabled_irq_with_an_ordinary_period_gives_no_warning(tmp_path, capsys):
    from tests import asm

    elf = asm.build(tmp_path, ENABLE_IRQ3 + asm.EXIT_OK)
    out = tmp_path / "i.json"
    assert main(["run", str(elf), "--irq", "3@100000/5000", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["warnings"] == []


def test_progress_reads_the_batched_path_without_accounting_it(kernels, monkeypatch):
    """Reading `cycles` on the batched path accounts the pending blocks; from the progress
    thread that raced the run (another count, another output: seen in CI). counts_so_far
    must never account."""
    from mcusim import Firmware, RunOptions, load_board
    from mcusim.sim.accounting.batched import BatchedSimulation

    sim = BatchedSimulation(Firmware.open(kernels / "nucleo-f446re" / "hello.elf"),
                            load_board("nucleo-f446re"), RunOptions())
    sim._seq.append(0)  # a block recorded, not accounted yet

    def account() -> None:
        raise AssertionError("counts_so_far accounted the batch")

    monkeypatch.setattr(sim, "_account", account)
    assert sim.counts_so_far() == (0, 0)

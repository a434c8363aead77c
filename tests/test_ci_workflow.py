"""The example GitHub Actions workflow in docs/: its commands, run here as CI would run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from .conftest import ROOT

WORKFLOW = ROOT / "docs" / "github-actions-check.yml"


def steps(text: str) -> list[tuple[str, str]]:
    """(name, command) of every `run:` step (the workflow keeps each command on one line)."""
    out, name = [], ""
    for line in text.splitlines():
        m = re.match(r"\s+- name: (.+)", line)
        if m:
            name = m.group(1)
        m = re.match(r"\s+run: (.+)", line)
        if m:
            out.append((name, m.group(1)))
    return out


def test_workflow_commands_pass_on_the_bundled_kernels(kernels, tmp_path):
    commands = steps(WORKFLOW.read_text())
    names = [n for n, _ in commands]
    assert names == ["Install the Arm toolchain", "Install mcusim", "Build the firmware",
                     "Regression gate", "Report in the job summary"]
    # The install steps need root and the network: check what they install instead.
    apt, pip = commands[0][1], commands[1][1]
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    for pkg in re.findall(r"(?:gcc-arm-none-eabi|libnewlib-arm-none-eabi|make)\b", apt):
        assert pkg in setup
    assert pip == "python -m pip install ." and (ROOT / "pyproject.toml").is_file()
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name, command in commands[2:]:
        done = subprocess.run(command, shell=True, cwd=ROOT, env=env, timeout=300,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"step {name!r}: {command}\n{done.stderr}"
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("### mcusim check passed: 15 entries: 15 passed")
    root = ET.parse(tmp_path / "mcusim-check.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("15", "0", "0")

"""The pytest plugin (entry point `mcusim`), exercised through pytest's own `pytester`."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from .conftest import BUILD

pytest_plugins = ["pytester"]


def test_plugin_is_registered_as_pytest11_entry_point():
    eps = {e.name: e.value for e in entry_points(group="pytest11")}
    assert eps.get("mcusim") == "mcusim.sim.pytest_plugin"


@pytest.fixture
def project(pytester: pytest.Pytester, kernels):
    pytester.makeini("[pytest]\nmcusim_board = nucleo-f446re\n")
    return pytester


def test_fixture_runs_firmware_and_asserts_on_result(project):
    project.makepyfile(test_fw=f"""
        ELF = {str(BUILD / "nucleo-f446re" / "calltree.elf")!r}
        CNN = {str(BUILD / "nucleo-f446re" / "cnn_chain.elf")!r}

        def test_calltree(mcusim):
            result = mcusim.run(ELF, regions=["start_trigger:stop_trigger"])
            assert result.exit_code == 0
            assert result.region("start_trigger:stop_trigger").cycles == 432
            assert "cycles: 432" in result.stdout
            assert result.memory.peak_ram < 8 * 1024
            assert result.cycles > result.instructions

        def test_regions_of_a_model(mcusim):
            result = mcusim.run(CNN)
            layers = ["conv3x3", "dwconv3x3", "conv1x1", "avgpool", "fc"]
            assert sum(result.region(n).cycles for n in layers) < result.cycles
    """)
    result = project.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_assertion_messages_are_readable(project):
    project.makepyfile(test_fw=f"""
        ELF = {str(BUILD / "nucleo-f446re" / "calltree.elf")!r}

        def test_budget(mcusim):
            assert mcusim.run(ELF).cycles < 1000

        def test_ram(mcusim):
            assert mcusim.run(ELF).memory.peak_ram < 100

        def test_region(mcusim):
            mcusim.run(ELF).region("conv")
    """)
    result = project.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    text = result.stdout.str()
    assert "where 12398 = RunResult(calltree.elf on nucleo-f446re: exit 0, 5,710 " \
           "instructions, 12,398 cycles).cycles" in text
    assert "where 4640 = MemoryReport(peak_ram=4,640 B" in text
    assert "no region 'conv' in this run (regions: none)" in text


def test_board_option_and_clear_errors(project):
    project.makepyfile(test_fw=f"""
        ELF = {str(BUILD / "nucleo-g071rb" / "calltree.elf")!r}

        def test_m0(mcusim):
            assert mcusim.run(ELF).exit_code == 0

        def test_missing(mcusim):
            mcusim.run("no/such.elf")
    """)
    result = project.runpytest("-q", "-p", "no:cacheprovider", "--mcusim-board",
                               "nucleo-g071rb")
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    assert "mcusim: " in text and "such.elf" in text
    assert "Traceback" not in text and "def run(" not in text  # pytrace=False

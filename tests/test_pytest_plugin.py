"""The pytest plugin (entry point `mcusim`), exercised through pytest's own `pytester`."""

from __future__ import annotations

from importlib.metadata import entry_points

# In-process runs (runpytest) drop the modules they imported from sys.modules afterwards, and
# numpy's C core cannot be loaded twice in one process: the second run that tracks memory would
# fail with "cannot load module more than once per process". Loaded here, before any run, it
# stays (the whole suite had always loaded it by then; this file alone had not).
import numpy  # noqa: F401
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

        import re

        def test_calltree(mcusim):
            result = mcusim.run(ELF, regions=["start_trigger:stop_trigger"])
            assert result.exit_code == 0
            # the program times itself between the two symbols with DWT_CYCCNT
            timed = int(re.search(r"cycles: (\\d+)", result.stdout).group(1))
            assert result.region("start_trigger:stop_trigger").cycles == timed > 0
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
    # The figures the messages must show, from a run of the same ELF through the same API.
    from mcusim.sim.check.measure import run_firmware

    ref = run_firmware(BUILD / "nucleo-f446re" / "calltree.elf", "nucleo-f446re")
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
    assert (f"where {ref.cycles} = RunResult(calltree.elf on nucleo-f446re: exit 0, "
            f"{ref.instructions:,} instructions, {ref.cycles:,} cycles).cycles") in text
    peak = ref.memory.peak_ram
    assert f"where {peak} = MemoryReport(peak_ram={peak:,} B" in text
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
    assert "During handling of the above exception" not in text  # one message, not two

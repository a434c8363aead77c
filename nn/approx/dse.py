"""The design-space exploration: candidates measured through a concurrent.futures executor.

Accuracy is computed on the host (cheap, in this process); latency on the simulator, one
candidate per task: a local process pool by default (each worker keeps its decoded blocks across
candidates, and builds go through the model path's build cache), or a Dask cluster's executor
when a scheduler address is given. Measured candidates are appended to a cache file as they
finish, so an interrupted study resumes where it stopped.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mcusim.base.workers import process_pool, stop_pool
from mcusim.nn.approx import search
from mcusim.nn.approx.config import ApproxConfig
from mcusim.nn.approx.options import DEFAULT_LEVELS
from mcusim.nn.approx.pareto import Point, mark_pareto
from mcusim.nn.approx.study import MeasureCache, Study, config_of, measure_latency
from mcusim.nn.sim_api import InputError, UsageError


@dataclass
class DseOptions:
    levels: list[float] = field(default_factory=lambda: list(DEFAULT_LEVELS))
    max_grid: int = 100  # use the full grid when it has at most this many candidates
    max_loss: float = 0.05  # the greedy walk stops past this accuracy loss (fraction)
    jobs: int = 2
    scheduler: str | None = None  # Dask scheduler address; None = local process pool


@contextmanager
def make_executor(opts: DseOptions):
    if opts.scheduler is None:
        ex = process_pool(max(1, opts.jobs))
        try:
            yield ex
        except BaseException:
            # Ctrl-C or an error: drop the queued candidates and end the workers instead of
            # waiting for them (the measured ones are in the cache, so the study resumes).
            stop_pool(ex)
            raise
        ex.shutdown(wait=True)
        return
    try:
        from distributed import Client
    except ImportError:
        # (a usage error: the option cannot be used in this installation; nothing is malformed)
        raise UsageError("--scheduler needs Dask's `distributed` package: "
                         "pip install 'mcusim[dask]'") from None
    try:
        client = Client(opts.scheduler, timeout="10s")
    except OSError as e:
        raise InputError(f"cannot reach the Dask scheduler at {opts.scheduler}: {e}") from e
    try:
        yield client.get_executor()
    finally:
        client.close()


Progress = Callable[[int, int, str], None]  # (done, total, phase)


class Explorer:
    """Measures configurations (cached) and keeps every point."""

    def __init__(self, study: Study, cache: MeasureCache, executor: cf.Executor,
                 progress: Progress | None = None):
        self.study = study
        self.cache = cache
        self.executor = executor
        self.progress = progress or (lambda done, total, phase: None)
        self.points: dict[str, Point] = {}
        self.failed: dict[str, str] = {}  # config key -> why it could not be measured

    def measure(self, configs: Iterable[ApproxConfig], source: str) -> list[Point]:
        configs = list({c.key(): c for c in configs}.values())
        todo = [c for c in configs if self.cache.get(c.key()) is None]
        done = len(configs) - len(todo)
        self.progress(done, len(configs), source)
        futures = {self.executor.submit(measure_latency, str(self.study.model),
                                        self.study.board,
                                        self.study.schedule(c).to_json_dict(),
                                        [self.study.data.x[:1]]): c
                   for c in todo}
        for fut in cf.as_completed(futures):
            c = futures[fut]
            self.cache.put(c.key(), fut.result())
            done += 1
            self.progress(done, len(configs), source)
        points = [self._point(c, source) for c in configs]
        return [p for p in points if p is not None]

    def _point(self, c: ApproxConfig, source: str) -> Point | None:
        key = c.key()
        if key in self.points:
            return self.points[key]
        m = self.cache.get(key)
        if "error" in m:  # could not be built for this board (does not fit): not a point
            self.failed[key] = m["error"]
            return None
        p = Point({str(op): lv.skip for op, lv in sorted(c.layers.items())},
                  int(m["latency_cycles"]), self.study.accuracy(c), dict(m["layer_cycles"]),
                  self.study.macs_kept(c), source=source)
        self.points[key] = p
        return p


def run_dse(study: Study, opts: DseOptions, cache_path: Path,
            progress: Progress | None = None) -> tuple[Point, list[Point]]:
    """The exact point and every measured point (Pareto flags set)."""
    layers = sorted(study.layers)
    cache = MeasureCache(cache_path, study.identity())
    with make_executor(opts) as ex:
        explorer = Explorer(study, cache, ex, progress)
        measured = explorer.measure([ApproxConfig({})], "exact")
        if not measured:
            raise InputError(f"the exact model cannot run on {study.board}: "
                             f"{next(iter(explorer.failed.values()))}")
        exact = measured[0]
        # Generated kernels everywhere, nothing skipped: same outputs as the exact model.
        unrolled = explorer.measure([config_of(dict.fromkeys(layers, 0.0))], "unrolled")
        # The fastest exact network: per layer the faster of the library kernel and the
        # generated one with nothing skipped. What skipping itself buys is measured against it.
        if unrolled:
            region_of = {s.op: s.name for s in study.schedule(ApproxConfig({}))}
            fastest = {op: 0.0 if unrolled[0].layer_cycles[region_of[op]]
                       < exact.layer_cycles[region_of[op]] else None for op in layers}
            explorer.measure([config_of(fastest)], "fastest-exact")
        if search.grid_size(layers, opts.levels) <= opts.max_grid:
            explorer.measure([config_of(s) for s in search.grid(layers, opts.levels)], "grid")
        else:
            singles = explorer.measure(
                [config_of(s) for s in search.per_layer(layers, opts.levels)], "layer")
            measured_layers = {}
            for p in singles:
                ((op, f),) = ((int(k), v) for k, v in p.config.items())
                measured_layers[(op, f)] = p.layer_cycles
            region_of = {s.op: s.name for s in study.schedule(ApproxConfig({}))}
            saving = search.savings_table(exact.layer_cycles, measured_layers, region_of)
            walk = search.greedy_walk(layers, opts.levels,
                                      lambda s: study.accuracy(config_of(s)), saving,
                                      opts.max_loss)
            explorer.measure([config_of(s) for s in walk], "greedy")
    points = list(explorer.points.values())
    mark_pareto(points)
    return exact, points

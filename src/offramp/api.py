"""The Python API for notebooks: run the main job, open a run, compare, report.

>>> import offramp
>>> run = offramp.run("kursk-2024", futures=2_000, seed=1)      # doctest: +SKIP
>>> run.outcomes.groupby("policy")["ended"].mean()               # doctest: +SKIP
>>> run.compare()                                                # doctest: +SKIP
>>> run.robustness()                                             # doctest: +SKIP
>>> print(run.discover("a_territory_share < 0.8", "drip-feed").sentence())  # doctest: +SKIP
>>> run.sensitivity("a_territory_share").head()                  # doctest: +SKIP
>>> run.report()                                                 # doctest: +SKIP
>>> again = offramp.open_run(run.path)                           # doctest: +SKIP
>>> run.condition("kursk-2024").compare()    # a run with series=True   # doctest: +SKIP
>>> found = offramp.search("kursk-2024", futures=500, generations=5)     # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import pandas as pd

from offramp.analysis.compare import paired_wins, summary_table
from offramp.analysis.weekly import WeeklyBands
from offramp.experiments.executors import make_executor
from offramp.experiments.manifest import RunManifest
from offramp.experiments.runner import (
    RunSettings,
    check_memory,
    default_run_dir,
    start_run,
)
from offramp.report.words import (
    discovery_restrictions,
    discovery_sentence,
    names_of_run,
)
from offramp.scenario.conditions import DEFAULT_REQUIREMENTS
from offramp.scenario.loader import load_scenario
from offramp.store import RunStore
from offramp.studies.conditioning import Conditioning
from offramp.studies.runs import Discovery, RunAnalysis
from offramp.studies.search import SearchResult


@contextmanager
def _step(message: str, progress: bool) -> Iterator[None]:
    """A spinner on stderr while a step of more than a moment runs (a notebook shows it too)."""
    if not progress:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


class PlotView:
    """The report's figures for a run, as matplotlib Figures to show, tweak or save
    (`run.plot.fan("salient_km2")`, `run.plot.distribution("casualties_a")`,
    `run.plot.levers("as-happened")`)."""

    def __init__(self, run: Run):
        self._run = run

    def distribution(self, outcome: str, title: str | None = None,
                     policies: Sequence[str] | None = None):
        """Step histograms of one outcome per policy."""
        from offramp.report.figures import distribution_figure

        chosen = list(policies or self._run.manifest.policies)
        return distribution_figure(self._run.outcomes, chosen, outcome,
                                   title or outcome.replace("_", " "))

    def fan(self, series: str, title: str | None = None, policies: Sequence[str] | None = None):
        """A weekly series per policy: median and 10-90% band (a 0/1 series as a share)."""
        from offramp.report.figures import fan_figure

        return fan_figure(self._run.weekly_bands, list(policies or self._run.manifest.policies),
                          series, title or series.replace("_", " "))

    def levers(self, policy: str):
        """When a policy's schedule or triggers changed its levers (share of futures)."""
        from offramp.report.figures import lever_figure

        return lever_figure(self._run.weekly_bands, policy)


class DiscoveryView:
    """A PRIM search on a run, with its plain words (`sentence`), its box as a table
    (`restrictions`) and its trade-off plot (`figure`); `discovery` holds the data."""

    def __init__(self, discovery: Discovery, manifest: RunManifest):
        self.discovery = discovery
        self._names = names_of_run(manifest)

    @property
    def result(self):
        return self.discovery.result

    def sentence(self, box_index: int = 0) -> str:
        return discovery_sentence(self.discovery, self._names, box_index)

    def restrictions(self, box_index: int = 0) -> pd.DataFrame:
        return discovery_restrictions(self.discovery, self._names, box_index)

    def figure(self, box_index: int = 0, title: str | None = None):
        from offramp.report.figures import discovery_figure

        return discovery_figure(self.discovery, box_index, title=title)


class Run:
    """A finished run in the store: its outcomes as DataFrames, its comparison and report."""

    def __init__(self, store: RunStore):
        self._store = store

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"Run({m.scenario!r}, {m.n_futures:,} futures × {len(m.policies)} "
            f"policies, seed {m.seed}, path={str(self.path)!r})"
        )

    def _repr_html_(self) -> str:
        """In a notebook: what the run is and its per-policy comparison."""
        import html

        table = summary_table(self.outcomes, self.manifest.policies).T.to_html(
            float_format=lambda v: f"{v:,.3g}")
        return (f"<p><strong>{html.escape(repr(self))}</strong><br>A comparison under the "
                f"scenario's assumptions, not a forecast.</p>{table}")

    @property
    def path(self) -> Path:
        return self._store.root

    @property
    def plot(self) -> PlotView:
        """The report's figures, as matplotlib Figures (see `PlotView`)."""
        return PlotView(self)

    @property
    def manifest(self) -> RunManifest:
        return RunManifest.of(self._store)

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """One row per future × policy."""
        return self._store.read_outcomes()

    @cached_property
    def futures(self) -> pd.DataFrame:
        """One row per future: the sampled value of every parameter."""
        return self._store.read_futures()

    @cached_property
    def series(self) -> pd.DataFrame:
        """Weekly series, one row per future × policy × week (runs made with series=True)."""
        return self._store.read_series()

    @cached_property
    def weekly_bands(self) -> WeeklyBands:
        """Per series, policy and week: 10th/50th/90th percentiles, mean and range (what the
        fans draw), computed from the stored series without loading them all; for a run of more
        than 100,000 futures, over its first 100,000 (`.sample` then says how many of how
        many)."""
        from offramp.studies.summary import run_bands

        if not self.manifest.series:
            self._store.read_series()  # the error that says to run with series=True
        return run_bands(self._store)

    def compare(self) -> pd.DataFrame:
        """The headline statistics per policy (rows: policies; snake_case columns, e.g.
        `ended_share`, `territory_share_median`)."""
        return _snake_case(summary_table(self.outcomes, self.manifest.policies))

    def paired(self) -> pd.DataFrame:
        """Share of futures in which one policy does strictly better than another: one row per
        ordered pair (`policy`, `versus`), one snake_case column per headline outcome."""
        wins = paired_wins(self.outcomes)
        pairs = [label.split(" vs ", 1) for label in wins.index]
        wins.index = pd.MultiIndex.from_tuples([tuple(pair) for pair in pairs],
                                               names=["policy", "versus"])
        return _snake_case(wins)

    @cached_property
    def _analysis(self) -> RunAnalysis:
        return RunAnalysis(self._store)

    def robustness(self) -> pd.DataFrame:
        """Per policy: mean / 90th-percentile / max regret on the headline outcomes (against the
        best policy in the same future) and the share of futures meeting the run's requirements."""
        return self._analysis.robustness()

    def discover(
        self, where: str, policy: str, threshold: float = 0.8, peel_alpha: float = 0.05,
        boxes: int = 1,
    ) -> DiscoveryView:
        """PRIM over the futures where `where` (SQL on the outcomes) holds under `policy`.

        The result's ``sentence()`` says the box in plain words; ``result`` is the PrimResult,
        ``restrictions()`` the box as a table, ``figure()`` the trade-off plot.
        """
        found = self._analysis.discover(where, policy, threshold=threshold,
                                        peel_alpha=peel_alpha, boxes=boxes)
        return DiscoveryView(found, self.manifest)

    def sensitivity(
        self, outcome: str, policy: str | Sequence[str] | None = None, method: str = "pawn",
        progress: bool = True,
    ) -> pd.DataFrame:
        """Uncertain parameters ranked by their influence on `outcome`, per policy.

        Indexed by (policy, parameter); ``importance`` first, then the method's indices.
        `method` is "pawn", "delta" or "sobol" (Sobol needs a run with sampler="saltelli").
        """
        policies = [policy] if isinstance(policy, str) else policy
        with _step(f"{method} sensitivity of {outcome}...", progress):
            tables = self._analysis.sensitivity(outcome, policies=policies, method=method)
        names = names_of_run(self.manifest)
        for table in tables.values():
            table.insert(0, "label", [names.label(path) for path in table.index])
        return pd.concat(tables, names=["policy", "parameter"])

    def condition(self, observations: str | Path, method: str = "weights",
                  under: str | None = None, save: bool = True) -> Conditioned:
        """The run's futures weighed by an observations file (or a built-in one by name, e.g.
        "kursk-2024"); `save` writes weights.parquet into the run folder (the `weights` view of
        `query`). The run must have been made with series=True."""
        from offramp.studies.conditioning import condition, save_weights

        found = condition(self._store, observations, method=method, under=under)
        if save:
            save_weights(found, self.path, observations)
        return Conditioned(found, self)

    def query(self, sql: str) -> pd.DataFrame:
        """DuckDB SQL over the views `futures`, `outcomes`, `series` and `weights`."""
        from offramp.store.query import run_sql

        return run_sql(self._store, sql)

    def report(self, progress: bool = True) -> Path:
        """Write the self-contained HTML report; return its path. The scenario's claims are
        judged on the run's futures (and stored) the first time. `progress`: a spinner names
        each step (together 10–60 s on 10,000 futures)."""
        from offramp.report.html import write_report
        from offramp.studies.claims import load_claims
        from offramp.studies.summary import judge_claims, summarize

        if load_claims(self._store) is None:
            with _step("judging the scenario's claims on the run's futures...", progress):
                judge_claims(self._store)
        with _step("analysing the run (drivers, where each policy fails)...", progress):
            summary = summarize(self._store)
        with _step("writing the report...", progress):
            return write_report(summary)


class Conditioned:
    """A run weighed by observations: `weights` (future, policy, log_likelihood, weight, kept),
    `ess` (effective sample size per policy), `warnings`, `compare()`: the prior and the
    conditioned per-policy numbers side by side, and `analysis` / `robustness()`: the run's
    questions asked of its futures resampled by weight."""

    def __init__(self, conditioning: Conditioning, run: Run):
        self.conditioning = conditioning
        self._run = run

    def __repr__(self) -> str:
        sizes = ", ".join(f"{p} {e:,.0f}" for p, e in self.ess.items())
        return (f"<Conditioned {self._run.path.name}: {len(self.conditioning.observations)} "
                f"observations, {self.conditioning.method}; effective sample size {sizes}>")

    @property
    def weights(self) -> pd.DataFrame:
        return self.conditioning.weights

    @property
    def ess(self) -> dict[str, float]:
        return self.conditioning.ess

    @property
    def warnings(self) -> list[str]:
        return self.conditioning.warnings

    def compare(self) -> pd.DataFrame:
        from offramp.studies.conditioning import weighted_comparison

        manifest = self._run.manifest
        return weighted_comparison(self._run.outcomes, self.weights,
                                   list(manifest.requirements), list(manifest.policies))

    @cached_property
    def analysis(self) -> RunAnalysis:
        """The run's questions (`robustness`, `discover`, `failures`, `sensitivity`) asked of
        its futures resampled by these weights (they must be made with `under`)."""
        return RunAnalysis(self._run._store, weights=self.weights)

    def robustness(self) -> pd.DataFrame:
        """`Run.robustness` on the futures resampled by the weights."""
        return self.analysis.robustness()


def run(
    scenario: str = "kursk-2024",
    policies: Sequence[str] = (),
    futures: int = 10_000,
    sampler: str = "lhs",
    seed: int = 0,
    workers: int = 1,
    dask: str | None = None,
    series: bool = False,
    out: str | Path | None = None,
    chunk_size: int | None = None,
    overrides: Sequence[str] = (),
    requirements: Sequence[str] = DEFAULT_REQUIREMENTS,
    progress: bool = True,
) -> Run:
    """Run `policies` (default: the scenario's default policies) of `scenario` across sampled
    futures; return the run.

    `requirements` (e.g. "a_territory_share >= 0.8") are what the robustness analysis judges
    policies against; they are stored with the run and do not change its outcomes. `progress`
    draws a bar over the futures (in a notebook too) while the run goes.
    """
    settings = RunSettings(
        scenario=scenario,
        overrides=tuple(overrides),
        policies=tuple(policies),
        n_futures=futures,
        sampler=sampler,
        seed=seed,
        chunk_size=chunk_size,
        series=series,
        requirements=tuple(requirements),
    )
    if out is None:
        out = default_run_dir(scenario)
    loaded = load_scenario(scenario, overrides=list(overrides))
    check_memory(settings, loaded.scenario, workers)
    executor = make_executor(workers=workers, dask=dask)
    try:
        if not progress:
            return Run(start_run(settings, Path(out), executor, loaded=loaded))
        from rich.console import Console

        from offramp.report.console import progress_bar

        with progress_bar(Console(stderr=True), futures) as advance:
            return Run(start_run(settings, Path(out), executor, advance, loaded=loaded))
    finally:
        executor.close()


def open_run(path: str | Path) -> Run:
    """Open a run folder written by `offramp run` or `offramp.run`."""
    return Run(RunStore.open(Path(path)))


def search(
    scenario: str = "kursk-2024",
    search_file: str | Path | None = None,
    futures: int = 1_000,
    generations: int = 20,
    population: int = 24,
    seed: int = 0,
    check_futures: int = 10_000,
    requirements: Sequence[str] = DEFAULT_REQUIREMENTS,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
) -> SearchResult:
    """Search the levers of a search file (default: the scenario's built-in one) for policies
    that do better on its objectives, robustly; see docs/search.md.

    Returns a `SearchResult`: `front` (the non-dominated policies: levers and objectives),
    `candidates` (every one judged), `convergence` (hypervolume per generation),
    `reevaluation` (the front and the scenario's policies on `check_futures` fresh futures)
    and `notes`; the folder holds front.yaml (the front as scenario policies) and
    search.html. Example: `offramp.search("kursk-2024", futures=500, generations=5).front`.
    """
    import datetime as dt

    from offramp.studies.search import SearchSettings
    from offramp.studies.search import search as run_search

    name = Path(scenario).stem
    settings = SearchSettings(
        scenario=scenario, search_file=str(search_file or name), futures=futures,
        generations=generations, population=population, seed=seed,
        requirements=tuple(requirements), check_futures=check_futures)
    folder = Path(out) if out is not None else \
        Path("searches") / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}"

    def say(generation: int, volume: float, evaluated: int) -> None:
        if progress:
            from rich.console import Console

            Console(stderr=True).print(f"generation {generation}/{generations}: {evaluated:,} "
                                       f"candidates judged, hypervolume {volume:.4g}",
                                       highlight=False)

    return run_search(settings, folder, resume=resume, on_generation=say)


def _snake_case(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as code writes them: 'territory share, p10' -> 'territory_share_p10'."""
    return frame.rename(columns=lambda label: re.sub(r"[^0-9a-z]+", "_", str(label).lower())
                        .strip("_"))

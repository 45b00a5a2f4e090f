"""The main job: futures × policies, in fixed-size chunks, into a resumable run folder.

A run samples its futures once (the whole design), splits them into chunks of `chunk_size`
futures (a run setting, never derived from the number of workers), runs every policy on every
chunk, and writes each chunk's outcomes atomically. Because the engine's noise is a function of
(seed, stream, week, global future index), a chunk's numbers do not depend on the chunk size,
the executor or the order in which chunks finish: the same seed gives the same bits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from offramp.engine import OUTCOME_NAMES
from offramp.engine.vector_math import jit
from offramp.errors import UserError
from offramp.experiments import default_chunk_size
from offramp.experiments.executors import Executor, ProcessExecutor, SerialExecutor
from offramp.experiments.manifest import (
    RunManifest,
    created_now,
    package_versions,
    parameter_provenance,
    policy_details,
)
from offramp.experiments.sampling import (
    SAMPLERS,
    Sampler,
    saltelli_size,
    sample_futures,
    uncertain_parameters,
)
from offramp.experiments.simulate import Branch
from offramp.scenario.conditions import DEFAULT_REQUIREMENTS, check_conditions
from offramp.scenario.loader import LoadedScenario, load_scenario, scenario_digest
from offramp.scenario.schema import Scenario
from offramp.scenario.walk import scenario_parameters
from offramp.store import RunStore, StoreError
from offramp.store.run_store import DamagedRun


@dataclass(frozen=True)
class RunSettings:
    """What defines a run's results (anything else, like the executor, does not)."""

    scenario: str = "kursk-2024"
    overrides: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()  # empty: all of the scenario's policies
    n_futures: int = 10_000
    sampler: str = "lhs"
    seed: int = 0
    chunk_size: int | None = None  # None: `default_chunk_size(series)` (`futures_per_chunk`)
    series: bool = False
    # Read by the analysis (satisficing, where each policy fails), never by the simulation:
    # they are stored in the manifest and do not change the outcomes.
    requirements: tuple[str, ...] = DEFAULT_REQUIREMENTS

    @property
    def futures_per_chunk(self) -> int:
        """The chunk size given, or the default for a run with or without series."""
        return default_chunk_size(self.series) if self.chunk_size is None else self.chunk_size


@dataclass(frozen=True)
class BranchStart:
    """How a branched run begins (`offramp run --from RUN --week W`): what happened until the
    branch week (`history`: the followed policy, the parent run's seed, each future's parent),
    each future's parameters (its parent's), and what the manifest records of where they came
    from (the parent run, whether resampled by conditioning weights)."""

    history: Branch
    futures: pd.DataFrame
    record: dict[str, Any]


@dataclass(frozen=True)
class ChunkTask:
    index: int
    scenario: Scenario
    futures: pd.DataFrame
    first_future: int
    policies: tuple[str, ...]
    seed: int
    series: bool
    branch: Branch | None = None


@dataclass
class ChunkResult:
    index: int
    outcomes: pd.DataFrame
    series: pa.Table | None = field(default=None)


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Every policy on one chunk of futures (runs in a worker: a pure function of the task)."""
    from offramp.experiments.simulate import run_policies

    futures = task.futures.set_axis(
        pd.RangeIndex(task.first_future, task.first_future + len(task.futures), name="future")
    )
    # the chunk in one engine call per policy: the run's --chunk-size is the engine's (no
    # re-chunking), its inputs built once
    runs = run_policies(task.scenario, futures, task.policies, seed=task.seed,
                        record_series=task.series, chunk_size=max(1, len(futures)),
                        branch=task.branch)
    outcome_parts, series_parts = [], []
    for policy, run in runs.items():
        outcomes = run.outcomes.reset_index()
        outcomes.insert(1, "policy", policy)
        outcome_parts.append(outcomes)
        if run.series is not None:
            series_parts.append(run.series)
    return ChunkResult(
        task.index,
        _future_major(pd.concat(outcome_parts, ignore_index=True)),
        _wide_series(series_parts, futures.index.to_numpy(), task.policies)
        if series_parts else None,
    )


def _future_major(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by future, then policy (then week): chunks are contiguous ranges of futures,
    so joining them in chunk order gives the same file whatever the chunk size."""
    order = np.argsort(frame["future"].to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def _wide_series(parts: list[dict[str, np.ndarray]], future_index: np.ndarray,
                 policies: tuple[str, ...]) -> pa.Table:
    """Per policy, (weeks + 1, n) arrays -> one row per future and policy (future-major, as
    `_future_major` orders outcomes), each series a fixed-size list of its weekly values (week
    0 first), as an Arrow table: the store writes it as it is (one long row per week as well
    made a series run four times a plain one, mostly in building, compressing and joining its
    future, policy and week columns)."""
    weeks, n = next(iter(parts[0].values())).shape
    count = len(policies)
    columns: dict[str, pa.Array] = {
        "future": pa.array(np.repeat(future_index, count)),
        # large_string: the type pandas' strings become, as in the outcomes' chunks; made from
        # a dictionary of the policies' names in Arrow (not one Python string per row)
        "policy": pc.cast(pa.DictionaryArray.from_arrays(
            np.tile(np.arange(count, dtype=np.int8), n),
            pa.array(policies, type=pa.large_string())), pa.large_string()),
    }
    for name in parts[0]:
        values = np.empty((n, count, weeks), dtype=np.float32)
        for policy, part in enumerate(parts):
            _rows_by_future(np.ascontiguousarray(part[name], dtype=np.float32), policy, values)
        columns[name] = pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), weeks)
    return pa.table(columns)


@jit
def _rows_by_future(weekly: np.ndarray, policy: int, out: np.ndarray) -> None:
    """out[future, policy, week] = weekly[week, future], a block of futures at a time (the
    block's weeks stay in cache: half NumPy's time for a transposed copy, 16,384 futures x 105
    weeks x 4 policies 11.5 against 24 ms)."""
    weeks, futures = weekly.shape
    for start in range(0, futures, 64):
        stop = min(start + 64, futures)
        for week in range(weeks):
            for future in range(start, stop):
                out[future, policy, week] = weekly[week, future]


def default_run_dir(scenario: str) -> Path:
    """runs/<scenario>-<local time>: where a run goes when no folder is named."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{Path(scenario).stem}-{stamp}"


def chunk_bounds(n_futures: int, chunk_size: int, workers: int = 1) -> list[tuple[int, int]]:
    """Chunks of `chunk_size` futures (the last one shorter). For several `workers`, a run of
    more than one chunk is cut into a multiple of `workers` chunks of equal size (to one future,
    none above `chunk_size`), so that no worker is left with a short last chunk while another
    runs a full one (20,000 futures on 2 workers: 10,000 each, not 16,384 and 3,616). A run of
    one chunk stays whole: it runs in-process (`execute`)."""
    count = -(-n_futures // chunk_size)
    if workers == 1 or count == 1:
        return [(start, min(start + chunk_size, n_futures))
                for start in range(0, n_futures, chunk_size)]
    count = -(-count // workers) * workers
    edges = [n_futures * i // count for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def check_settings(settings: RunSettings, loaded: LoadedScenario) -> tuple[str, ...]:
    """Validate the run settings against the scenario; return the policies to run."""
    if settings.n_futures < 1:
        raise UserError(f"--futures must be at least 1, found {settings.n_futures}")
    if settings.n_futures > 100_000_000:
        raise UserError(f"--futures {settings.n_futures:,} is more than this tool is built for")
    if settings.futures_per_chunk < 1:
        raise UserError(f"--chunk-size must be at least 1, found {settings.futures_per_chunk}")
    if not 0 <= settings.seed < 2**63:
        raise UserError(f"--seed must be a whole number from 0 to 2**63 - 1, found {settings.seed}")
    if settings.sampler not in SAMPLERS:
        raise UserError(
            f"unknown sampler '{settings.sampler}'; choose one of {', '.join(SAMPLERS)}"
        )
    known = tuple(loaded.scenario.policies)
    policies = settings.policies or loaded.scenario.default_policies
    unknown = [p for p in policies if p not in known]
    if unknown:
        raise UserError(
            f"unknown polic{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)} in "
            f"{loaded.scenario.scenario.name}; its policies are {', '.join(known)}"
        )
    if len(set(policies)) != len(policies):
        raise UserError(f"a policy is named twice in --policies: {', '.join(policies)}")
    check_requirements(settings.requirements)
    if settings.sampler == "saltelli":
        saltelli_size(settings.n_futures, len(uncertain_parameters(loaded.scenario)))
    return tuple(policies)


def check_requirements(requirements: tuple[str, ...]) -> None:
    """Reject a malformed requirement, or one on an outcome the engine does not produce."""
    check_conditions(list(requirements), OUTCOME_NAMES)


@dataclass(frozen=True)
class MemoryEstimate:
    """What a run will hold in memory at its peak, roughly (GiB)."""

    futures_gib: float  # drawing the design and mapping it through the distributions
    chunks_gib: float  # every worker's chunk: engine state and, with --series, its series

    @property
    def total_gib(self) -> float:
        return self.futures_gib + self.chunks_gib


# Measured on kursk-2024 (2026-12-07): drawing 1,000,000 futures of 190 columns peaked at 4.0 GiB,
# 2.8 times the 1.4 GiB table (the design and the inverse-CDF temporaries beside it); a chunk of
# 16,384 futures took 87 MiB in the engine per policy (5.3 KB a future), and with series, four
# policies, 1.25 GiB in its worker (195 bytes per long-format row: the engine's weekly arrays,
# then the Arrow table built from them column by column), before the parent writes it.
DRAW_PEAK_FACTOR = 3.0
SERIES_BYTES_PER_ROW = 250.0
ENGINE_BYTES_PER_FUTURE = 8_000.0
GIB = 2.0**30


def memory_estimate(settings: RunSettings, scenario: Scenario, workers: int = 1,
                    policies: int | None = None) -> MemoryEstimate:
    """The peak memory a run's settings imply (see the constants above)."""
    columns = len(scenario_parameters(scenario)) + 1
    futures = settings.n_futures * columns * 8 * DRAW_PEAK_FACTOR
    chunk = min(settings.futures_per_chunk, settings.n_futures)
    per_chunk = chunk * ENGINE_BYTES_PER_FUTURE
    if settings.series:
        weeks = scenario.scenario.horizon_weeks + 1
        count = policies or len(settings.policies or scenario.default_policies)
        per_chunk += chunk * count * weeks * SERIES_BYTES_PER_ROW
    return MemoryEstimate(futures / GIB, max(1, workers) * per_chunk / GIB)


def available_memory_gib() -> float | None:
    """Memory the system can give a new process now (Linux MemAvailable), or None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / GIB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(settings: RunSettings, scenario: Scenario, workers: int = 1) -> None:
    """Refuse, before any work, a run that would not fit in the memory available now."""
    available = available_memory_gib()
    if available is None:
        return
    need = memory_estimate(settings, scenario, workers)
    if need.total_gib > available:
        hints = ["fewer --futures"]
        if settings.series:
            hints.insert(0, "no --series")
        if workers > 1:
            hints.append("fewer --workers")
        if settings.futures_per_chunk > 4096:
            hints.append("a smaller --chunk-size")
        raise UserError(
            f"this run would need about {need.total_gib:,.1f} GiB of memory (drawing the futures "
            f"{need.futures_gib:,.1f} GiB, the chunks being run {need.chunks_gib:,.1f} GiB) and "
            f"{available:,.1f} GiB is available: try {', '.join(hints)}")


def design_manifest(settings: RunSettings, scenario: Scenario, n_rows: int) -> dict[str, object]:
    """How the futures were laid out; for a Saltelli design, what Sobol indices need to know."""
    if settings.sampler != "saltelli":
        return {}
    n_dims = len(uncertain_parameters(scenario))
    base, _ = saltelli_size(settings.n_futures, n_dims)
    return {
        "saltelli": {
            "futures_requested": settings.n_futures,
            "base_samples": base,
            "rows_per_base_sample": 2 * n_dims + 2,
            "second_order": True,
            "parameters": uncertain_parameters(scenario),
            "note": f"N = {settings.n_futures} // (2D + 2) = {base} base samples for D = "
            f"{n_dims} uncertain parameters; {n_rows} futures in SALib's order",
        }
    }


BRANCH_SAMPLER = "branch"
"""The sampler a branched run's manifest names: its futures are its parents', not a design."""

RUN_DEFINING = ("scenario_data", "policies", "sampler", "seed", "n_futures", "chunk_bounds",
                "series", "branch")
"""The manifest fields that decide a run's numbers: a resume checks them against `run_hash`."""


def run_hash(manifest: dict[str, Any]) -> str:
    """A hash of what decides a run's numbers (`RUN_DEFINING`), recorded when it starts."""
    defining = {key: manifest.get(key) for key in RUN_DEFINING}
    text = json.dumps(defining, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def start_run(
    settings: RunSettings,
    out_dir: Path,
    executor: Executor | None = None,
    on_progress: Callable[[int], None] | None = None,
    loaded: LoadedScenario | None = None,
    branch: BranchStart | None = None,
) -> RunStore:
    """Sample the futures, create the run folder, and run every chunk. `loaded`: the settings'
    scenario when the caller has loaded it already (it is not read twice). `branch`: a branched
    run, whose futures are given (its sampler is then "branch")."""
    if loaded is None:
        loaded = load_scenario(settings.scenario, overrides=list(settings.overrides))
    lineage = None
    if branch is None:
        policies = check_settings(settings, loaded)
        future_weeks = settings.n_futures * len(policies) * loaded.scenario.scenario.horizon_weeks
        if isinstance(executor, ProcessExecutor) and not _in_process(
                executor, future_weeks,
                len(chunk_bounds(settings.n_futures, settings.futures_per_chunk,
                                 executor.workers))):
            executor.start()  # its workers' fork server loads offramp while this samples
        sampler = cast(Sampler, settings.sampler)  # one of SAMPLERS: `check_settings` said so
        futures = sample_futures(loaded.scenario, settings.n_futures, settings.seed, sampler)
    else:
        settings = dataclasses.replace(settings, sampler="lhs", n_futures=len(branch.futures))
        policies = check_settings(settings, loaded)
        settings = dataclasses.replace(settings, sampler=BRANCH_SAMPLER)
        futures = branch.futures
        parents = np.asarray(branch.history.parents, dtype=np.int64)
        lineage = pd.DataFrame({"future": np.arange(len(parents)), "parent_future": parents})
    n_futures = len(futures)  # a Saltelli design rounds the number of futures down
    manifest = {
        "scenario": loaded.scenario.scenario.name,
        "scenario_source": loaded.source,
        "scenario_hash": loaded.digest,
        "scenario_data": loaded.data,
        "scenario_meta": loaded.scenario.scenario.model_dump(mode="json"),
        "parameters": parameter_provenance(loaded.scenario),
        "policy_details": [policy_details(loaded.scenario, name) for name in policies],
        "overrides": list(settings.overrides),
        "policies": list(policies),
        "sampler": settings.sampler,
        **design_manifest(settings, loaded.scenario, n_futures),
        "seed": settings.seed,
        "n_futures": n_futures,
        "chunk_size": settings.futures_per_chunk,
        "chunk_bounds": chunk_bounds(n_futures, settings.futures_per_chunk,
                                     1 if executor is None else executor.workers),
        "series": settings.series,
        "requirements": list(settings.requirements),
        "versions": package_versions(),
        "created": created_now(),
    }
    if branch is not None:
        parents_digest = hashlib.sha256(np.ascontiguousarray(parents).tobytes()).hexdigest()
        manifest["branch"] = {**branch.record, "week": branch.history.week,
                              "under": branch.history.policy,
                              "parent_seed": branch.history.seed,
                              "parents_sha256": parents_digest}
    manifest["run_hash"] = run_hash(manifest)
    store = RunStore.create(out_dir, manifest, futures.reset_index(drop=True), lineage)
    RunManifest.of(store)  # what was written reads back as a manifest
    execute(store, loaded.scenario, executor, on_progress, futures)
    return store


def resume_run(
    run_dir: Path,
    executor: Executor | None = None,
    on_progress: Callable[[int], None] | None = None,
    expected_scenario: LoadedScenario | None = None,
    on_repair: Callable[[str], None] | None = None,
) -> RunStore:
    """Finish only what is missing in a run folder, after repairing what is damaged (a chunk
    whose file is not what was written runs again; `on_repair` hears what was done)."""
    store = RunStore.open(run_dir)
    manifest = RunManifest.of(store)
    if expected_scenario is not None and expected_scenario.digest != manifest.scenario_hash:
        given = expected_scenario.scenario.scenario.name
        raise StoreError(
            f"{run_dir} holds a run of '{manifest.scenario}' (hash "
            f"{manifest.scenario_hash[:12]}), not of '{given}' as given (hash "
            f"{expected_scenario.digest[:12]}); resume it without a scenario argument"
        )
    recorded = store.manifest.get("run_hash")
    if recorded is not None and recorded != run_hash(store.manifest):
        raise DamagedRun(
            f"{run_dir / 'manifest.json'}: what decides the run's numbers (its scenario, policies, "
            f"sampler, seed, futures or chunks) was changed since it began, so its finished "
            f"chunks and the rest would not belong together: start a new run")
    check_scenario_hash(store, manifest)
    ours = package_versions()["offramp"]
    if manifest.offramp_version != ours:
        raise StoreError(
            f"{run_dir} was made by offramp {manifest.offramp_version}, this is {ours}: "
            "results would not be reproducible; start a new run"
        )
    scenario = manifest.scenario_model()

    def design() -> pd.DataFrame:  # the futures, drawn again as the run drew them
        if manifest.branch is not None:
            raise DamagedRun(f"{store.root / 'futures.parquet'}: damaged, and a branched run's "
                             "futures cannot be drawn again: start the branch again")
        return sample_futures(scenario, manifest.n_futures, manifest.seed,
                              cast(Sampler, manifest.sampler))

    for note in store.repair(design):
        if on_repair is not None:
            on_repair(note)
    execute(store, scenario, executor, on_progress, store.read_futures())
    return store


def check_scenario_hash(store: RunStore, manifest: RunManifest) -> None:
    """The manifest's scenario is the one its hash was taken of (else: an edited folder)."""
    if scenario_digest(manifest.scenario_data) != manifest.scenario_hash:
        raise DamagedRun(f"{store.root / 'manifest.json'}: field 'scenario_data' is not the "
                         "scenario its 'scenario_hash' was taken of: the folder was edited; "
                         "start a new run")


def health(store: RunStore) -> list[str]:
    """What is wrong with a run folder, one line each (empty: healthy), without changing it:
    the manifest's fields, its run and scenario hashes, and every file against its checksum
    (`RunStore.problems`)."""
    try:
        manifest = RunManifest.of(store)
    except StoreError as error:
        return [str(error)]
    found = []
    recorded = store.manifest.get("run_hash")
    if recorded is not None and recorded != run_hash(store.manifest):
        found.append("manifest.json: what decides the run's numbers was changed since it began "
                     "(its run_hash differs)")
    try:
        check_scenario_hash(store, manifest)
    except DamagedRun as error:
        found.append(str(error))
    found += [f"{problem.name}: {problem.what}" for problem in store.problems()]
    return found


def stored_branch(store: RunStore, manifest: RunManifest) -> Branch | None:
    """A branched run's history as its folder records it (None for a run that did not branch)."""
    if manifest.branch is None:
        return None
    parents = store.read_lineage()["parent_future"].to_numpy(dtype=np.int64)
    return Branch(manifest.branch.week, manifest.branch.under, manifest.branch.parent_seed,
                  parents)


PROCESSES_FROM_FUTURE_WEEKS = 25_000_000
"""Local worker processes start only for at least this much work (futures x policies x weeks
left to run), in more than one chunk; less runs in this process. The workers' fork server
first imports offramp and loads the compiled kernels (~3 CPU-s, while this process samples),
which a small run does not win back: kursk-2024 on 2 vCPUs (2026-12-07), 40,000 futures x 4
policies (16.6 M future-weeks) 4.6-5.9 s wall in-process and 5.7-6.2 s on 2 workers; 100,000
(41.6 M) 11.7-12.1 s and 8.3-10.2 s (spawned workers, each importing offramp: 8.9-10.5 s)."""


def _in_process(executor: Executor, future_weeks: int, chunks: int) -> bool:
    """Whether local workers would not pay for their start (`PROCESSES_FROM_FUTURE_WEEKS`)."""
    return isinstance(executor, ProcessExecutor) and (
        future_weeks < PROCESSES_FROM_FUTURE_WEEKS or chunks == 1)


def execute(
    store: RunStore,
    scenario: Scenario,
    executor: Executor | None,
    on_progress: Callable[[int], None] | None,
    futures: pd.DataFrame,
) -> None:
    """Run the chunks not yet done, writing each as it arrives, then join them (in this process
    when local workers would not pay for their start: `PROCESSES_FROM_FUTURE_WEEKS`)."""
    manifest = RunManifest.of(store)
    bounds = manifest.chunk_bounds
    missing = store.missing_chunks()
    left = sum(bounds[i][1] - bounds[i][0] for i in missing)
    work = left * len(manifest.policies) * scenario.scenario.horizon_weeks
    if executor is None or _in_process(executor, work, len(missing)):
        executor = SerialExecutor()
    branch = stored_branch(store, manifest)
    tasks = (
        ChunkTask(
            index=i,
            scenario=scenario,
            futures=futures.iloc[bounds[i][0] : bounds[i][1]].reset_index(drop=True),
            first_future=bounds[i][0],
            policies=tuple(manifest.policies),
            seed=manifest.seed,
            series=manifest.series,
            branch=None if branch is None else branch.rows(*bounds[i]),
        )
        for i in missing
    )
    for result in executor.map_unordered(run_chunk, tasks):
        store.save_chunk(result.index, result.outcomes, result.series)
        if on_progress is not None:
            start, stop = bounds[result.index]
            on_progress(stop - start)
    store.finish()

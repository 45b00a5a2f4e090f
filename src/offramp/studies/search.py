"""Policy search: candidate policies moved over a search file's levers, judged by robustness
objectives over one set of futures, improved by a many-objective evolutionary algorithm, then
re-run on fresh futures beside the scenario's own policies (MORDM: Kasprzyk et al. 2013).

The optimizer is pymoo's NSGA-II (Deb et al. 2002), driven generation by generation (ask, then
tell): every variable is a number in [0, 1] decoded into a lever value (a range, a choice, a
timing's week, a trigger's threshold). A generation's candidates run on the same futures with
the same seed (common random numbers), each candidate as one engine call vectorized over the
futures; a candidate whose decoded levers were seen before is not run again. After every
generation the algorithm's state is written (`checkpoint.pkl`), so a stopped search resumes
where it was and ends where an uninterrupted one would.

Hypervolume (the objective space the front dominates) tracks convergence; its reference point
is fixed after the first generation at the worst feasible value of each objective plus a tenth
of its range, so the numbers of one search compare across generations, not across searches.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from offramp.analysis.compare import HEADLINES
from offramp.analysis.robustness import requirements_met
from offramp.analysis.search import (
    as_minimized,
    dominated_by,
    hypervolume,
    pareto_front,
    statistic,
)
from offramp.engine import OUTCOME_NAMES
from offramp.errors import UserError
from offramp.experiments.runner import check_requirements
from offramp.experiments.sampling import sample_futures
from offramp.experiments.simulate import run_policies
from offramp.scenario.conditions import DEFAULT_REQUIREMENTS
from offramp.scenario.loader import load_scenario
from offramp.scenario.schema import Policy, Scenario
from offramp.scenario.search import (
    LeverRange,
    Measure,
    SearchSpec,
    candidate_policy,
    load_search,
)
from offramp.store.atomic import write_bytes, write_json, write_parquet, write_text

CHECKPOINT = "checkpoint.pkl"
LARGER_IS_BETTER = {headline.column: headline.larger_is_better for headline in HEADLINES}


@dataclass(frozen=True)
class SearchSettings:
    """What decides a search's result (the same settings and version: the same front)."""

    scenario: str = "kursk-2024"
    search_file: str = ""
    futures: int = 1_000
    generations: int = 20
    population: int = 24
    seed: int = 0
    requirements: tuple[str, ...] = DEFAULT_REQUIREMENTS
    check_futures: int = 10_000  # the re-evaluation on fresh futures (0: none)
    check_seed: int | None = None  # its seed; default: seed + 1

    @property
    def fresh_seed(self) -> int:
        return self.seed + 1 if self.check_seed is None else self.check_seed


@dataclass
class SearchResult:
    """A finished search: every candidate judged, the front, convergence, the re-evaluation."""

    folder: Path
    objectives: list[str]  # labels, in the columns' order
    goals: list[str]  # "min" or "max", per objective
    candidates: pd.DataFrame  # generation, candidate, lever values, objectives, feasible
    front: pd.DataFrame  # the non-dominated feasible candidates of all those judged
    convergence: pd.DataFrame  # generation, evaluations, hypervolume
    reevaluation: pd.DataFrame | None  # front and the scenario's policies on fresh futures
    notes: list[str] = field(default_factory=list)


# --- the problem -----------------------------------------------------------------------------

def decode(spec: SearchSpec, unit: np.ndarray) -> dict[str, Any]:
    """A candidate's lever values from its variables in [0, 1] (one per lever, in order)."""
    values: dict[str, Any] = {}
    for u, (name, lever) in zip(unit, spec.levers.items(), strict=True):
        values[name] = _decode_one(lever, float(np.clip(u, 0.0, 1.0)))
    return values


def _decode_one(lever: LeverRange, u: float) -> Any:
    if lever.kind == "choices":
        assert lever.choices is not None
        return lever.choices[min(int(u * len(lever.choices)), len(lever.choices) - 1)]
    if lever.kind == "timing":
        assert lever.from_week is not None
        return int(round(lever.from_week.low + u * (lever.from_week.high - lever.from_week.low)))
    assert lever.low is not None and lever.high is not None
    value = lever.low + u * (lever.high - lever.low)
    return int(round(value)) if lever.integer else round(value, 6)


def check_search(scenario: Scenario, spec: SearchSpec, requirements: tuple[str, ...],
                 where: str) -> None:
    """What the search file cannot know alone: the base policy, the outcomes, regret's
    direction, and that every corner of the lever space makes a valid policy."""
    if spec.base not in scenario.policies:
        raise UserError(f"{where}: base: unknown policy '{spec.base}'; the scenario's policies: "
                        f"{', '.join(scenario.policies)}")
    checked: list[tuple[str, int, Measure]] = [
        *(("objectives", i, item) for i, item in enumerate(spec.objectives)),
        *(("constraints", i, item) for i, item in enumerate(spec.constraints))]
    for kind, index, item in checked:
        if item.outcome is not None and item.outcome not in OUTCOME_NAMES:
            raise UserError(f"{where}: {kind}[{index}].outcome: unknown outcome "
                            f"'{item.outcome}'; outcomes: {', '.join(OUTCOME_NAMES)}")
        if item.statistic == "regret" and item.outcome not in LARGER_IS_BETTER:
            raise UserError(f"{where}: {kind}[{index}]: regret needs an outcome whose better "
                            f"direction is known: {', '.join(LARGER_IS_BETTER)}")
    check_requirements(requirements)
    base = scenario.policies[spec.base]
    for corner in (0.0, 1.0):
        values = decode(spec, np.full(len(spec.levers), corner))
        try:
            candidate_policy(base, spec, values, "check", "check")
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            first = str(error).splitlines()
            raise UserError(f"{where}: levers at their {'low' if corner == 0 else 'high'} ends "
                            f"do not make a valid policy: {' '.join(first[:3])}") from None


# --- judging candidates ----------------------------------------------------------------------

@dataclass
class Judge:
    """Runs candidates on a fixed set of futures and scores them (objectives, constraints)."""

    scenario: Scenario
    spec: SearchSpec
    futures: pd.DataFrame
    seed: int
    requirements: tuple[str, ...]
    best: dict[str, np.ndarray] = field(default_factory=dict)  # regret's reference per outcome

    def __post_init__(self) -> None:
        judged: list[Measure] = [*self.spec.objectives, *self.spec.constraints]
        outcomes = {item.outcome for item in judged
                    if item.statistic == "regret" and item.outcome is not None}
        if outcomes:
            runs = [run.outcomes for run in run_policies(
                self.scenario, self.futures, self.scenario.default_policies,
                seed=self.seed).values()]
            for outcome in outcomes:
                stacked = np.column_stack([run[outcome].to_numpy(dtype=float) for run in runs])
                self.best[outcome] = (np.nanmax if LARGER_IS_BETTER[outcome] else np.nanmin)(
                    stacked, axis=1)

    def outcomes(self, policies: dict[str, Policy]) -> dict[str, pd.DataFrame]:
        """Each policy's outcomes on the futures (one engine call each, shared noise, the
        futures' engine inputs built once)."""
        extended = self.scenario.model_copy(
            update={"policies": {**self.scenario.policies, **policies}})
        return {name: run.outcomes for name, run in run_policies(
            extended, self.futures, list(policies), seed=self.seed).items()}

    def score(self, outcomes: pd.DataFrame) -> tuple[list[float], list[float]]:
        """(objective values, constraint values) of one policy's outcomes."""
        return ([self._value(item.outcome, item.statistic, outcomes)
                 for item in self.spec.objectives],
                [self._value(item.outcome, item.statistic, outcomes)
                 for item in self.spec.constraints])

    def _value(self, outcome: str | None, name: str, outcomes: pd.DataFrame) -> float:
        if name == "meets_requirements":
            table = outcomes.reset_index().assign(policy="candidate")
            return float(requirements_met(table, list(self.requirements)).mean())
        assert outcome is not None
        values = outcomes[outcome].to_numpy(dtype=float)
        return statistic(values, name, self.best.get(outcome),
                         LARGER_IS_BETTER.get(outcome, True))

    def violations(self, constraint_values: list[float]) -> list[float]:
        """Per constraint, how far it is broken (<= 0: met), as pymoo's G."""
        found = []
        for item, value in zip(self.spec.constraints, constraint_values, strict=True):
            found.append(item.at_least - value if item.at_least is not None
                         else value - (item.at_most or 0.0))
        return found


# --- the search --------------------------------------------------------------------------------

def _settings_hash(settings: SearchSettings, spec: SearchSpec, scenario_data: dict) -> str:
    text = json.dumps({"settings": dataclasses.asdict(settings), "spec": spec.model_dump(),
                       "scenario": scenario_data}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class SameLevers:
    """pymoo's duplicate test on decoded levers: two candidates whose variables differ but
    decode to the same policy (a rounded week, the same choice) are one candidate."""

    def __init__(self, spec: SearchSpec):
        self.spec = spec

    def __call__(self, a: Any, b: Any) -> bool:
        return decode(self.spec, a.X) == decode(self.spec, b.X)


def _algorithm(spec: SearchSpec, settings: SearchSettings) -> Any:
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.duplicate import ElementwiseDuplicateElimination
    from pymoo.core.problem import Problem

    problem = Problem(n_var=len(spec.levers), n_obj=len(spec.objectives),
                      n_ieq_constr=len(spec.constraints), xl=0.0, xu=1.0)
    algorithm = NSGA2(pop_size=settings.population,
                      eliminate_duplicates=ElementwiseDuplicateElimination(SameLevers(spec)))
    algorithm.setup(problem, termination=("n_gen", settings.generations), seed=settings.seed)
    return algorithm


def search(settings: SearchSettings, out: Path, resume: bool = False,
           on_generation: Callable[[int, float, int], None] | None = None) -> SearchResult:
    """Run (or resume) a search into the folder `out` (see the module)."""
    loaded = load_scenario(settings.scenario)
    scenario = loaded.scenario
    spec = load_search(settings.search_file)
    check_search(scenario, spec, settings.requirements, settings.search_file)
    for name, given, low in (("--futures", settings.futures, 10),
                             ("--generations", settings.generations, 1),
                             ("--population", settings.population, 4)):
        if given < low:
            raise UserError(f"{name} must be at least {low}, found {given}")
    if settings.futures > 1_000_000 or settings.population * settings.generations > 100_000:
        raise UserError("the search asks for more than a million futures or more than 100,000 "
                        "candidate evaluations: choose fewer")
    digest = _settings_hash(settings, spec, loaded.data)
    out = Path(out)
    state = _resume_state(out, digest) if resume else None
    if state is None:
        if out.exists() and any(out.iterdir()):
            raise UserError(f"{out}: the output folder exists and is not empty; choose another "
                            f"--out, or continue its search with --resume")
        out.mkdir(parents=True, exist_ok=True)
        state = {"algorithm": _algorithm(spec, settings), "rows": [], "cache": {},
                 "violations": {}, "archive": [], "reference": None, "convergence": [],
                 "digest": digest}
    goals: list[str] = [item.goal for item in spec.objectives]
    labels = [item.label for item in spec.objectives]
    futures = sample_futures(scenario, settings.futures, settings.seed)
    judge = Judge(scenario, spec, futures, settings.seed, settings.requirements)
    base = scenario.policies[spec.base]
    algorithm = state["algorithm"]
    while algorithm.has_next():
        generation = int(algorithm.n_gen or 1)
        population = algorithm.ask()
        decoded = [decode(spec, row) for row in population.get("X")]
        keys = [json.dumps(values, sort_keys=True, default=str) for values in decoded]
        new = {key: values for key, values in zip(keys, decoded, strict=True)
               if key not in state["cache"]}
        policies = {f"candidate-{len(state['cache']) + i}": candidate_policy(
            base, spec, values, spec.base, "a candidate of offramp search")
            for i, values in enumerate(new.values())}
        for (key, _), (_, outcomes) in zip(new.items(), judge.outcomes(policies).items(),
                                           strict=True):
            state["cache"][key] = judge.score(outcomes)
            state["violations"][key] = judge.violations(state["cache"][key][1])
        objectives = np.array([state["cache"][key][0] for key in keys], dtype=float)
        constraints = [state["violations"][key] for key in keys]
        _evaluated(algorithm, population, as_minimized(objectives, goals),
                   np.array(constraints, dtype=float).reshape(len(keys), -1))
        algorithm.tell(infills=population)
        for key, values, scores, broken in zip(keys, decoded, objectives, constraints,
                                               strict=True):
            state["rows"].append({"generation": generation, "candidate": key, **values,
                                  **dict(zip(labels, scores, strict=True)),
                                  "feasible": all(v <= 0 for v in broken)})
        volume = _hypervolume(state, _archive(state, list(new), goals), algorithm)
        state["convergence"].append({"generation": generation, "evaluations": len(state["cache"]),
                                     "hypervolume": volume})
        write_bytes(out / CHECKPOINT, pickle.dumps(state))
        if on_generation is not None:
            on_generation(generation, volume, len(state["cache"]))
    return _finish(settings, spec, scenario, state, out, labels, goals)


def _evaluated(algorithm: Any, population: Any, minimized: np.ndarray,
               violations: np.ndarray) -> None:
    """Give pymoo the population's values as its own evaluator would (objectives, constraint
    violations, feasibility)."""
    from pymoo.core.evaluator import Evaluator
    from pymoo.problems.static import StaticProblem

    given = {"F": minimized}
    if violations.shape[1]:
        given["G"] = violations
    Evaluator().eval(StaticProblem(algorithm.problem, **given), population)


def _resume_state(out: Path, digest: str) -> dict[str, Any]:
    path = out / CHECKPOINT
    if not path.is_file():
        raise UserError(f"{out}: no search to resume (no {CHECKPOINT}); start it without "
                        "--resume")
    try:
        state = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as error:
        raise UserError(f"{path}: cannot be read ({error}); start the search again") from None
    if state.get("digest") != digest:
        raise UserError(f"{out}: its search was made with other settings, search file or "
                        "scenario; resume it with the same ones, or start a new search")
    return dict(state)


def _archive(state: dict[str, Any], judged: list[str], goals: list[str]) -> np.ndarray:
    """Update the archive, `state["archive"]`: every feasible candidate judged so far that no
    other dominates (the archive MORDM's ε-NSGA-II keeps; NSGA-II's own population may drop a
    front point to keep its spread), kept in the order candidates were first judged. The front
    of everything judged is the front of the last archive and the newly `judged` (dominance is
    transitive), so a generation compares a few hundred candidates, not all of them. Returns the
    archive's objectives, minimized."""
    keys = state["archive"] + [key for key in judged
                               if all(v <= 0 for v in state["violations"][key])]
    if not keys:
        return np.zeros((0, len(goals)))
    minimized = as_minimized(np.array([state["cache"][key][0] for key in keys], dtype=float),
                             goals)
    front = pareto_front(minimized)
    state["archive"] = [key for key, on in zip(keys, front, strict=True) if on]
    return minimized[front]


def _hypervolume(state: dict[str, Any], front: np.ndarray, algorithm: Any) -> float:
    """Hypervolume of the archive's front (objectives minimized; the reference is fixed after
    the first generation)."""
    if state["reference"] is None:
        population = algorithm.pop.get("F")
        worst, best = population.max(axis=0), population.min(axis=0)
        state["reference"] = worst + 0.1 * np.maximum(worst - best, 1e-9)
    return hypervolume(front, state["reference"]) if len(front) else 0.0


def _finish(settings: SearchSettings, spec: SearchSpec, scenario: Scenario,
            state: dict[str, Any], out: Path, labels: list[str], goals: list[str]
            ) -> SearchResult:
    levers = list(spec.levers)
    candidates = pd.DataFrame(state["rows"])
    first_seen = candidates.drop_duplicates("candidate").set_index("candidate")
    front = first_seen.loc[state["archive"]].reset_index()
    front.insert(0, "name", [f"searched-{i + 1}" for i in range(len(front))])
    convergence = pd.DataFrame(state["convergence"])
    base = scenario.policies[spec.base]
    policies = {row["name"]: candidate_policy(
        base, spec, {name: row[name] for name in levers}, spec.base,
        f"Found by offramp search ({', '.join(labels)}) from {spec.base}, seed "
        f"{settings.seed}") for _, row in front.iterrows()}
    reevaluation: pd.DataFrame | None = None
    notes: list[str] = []
    if settings.check_futures > 0 and len(front):
        reevaluation, notes = reevaluate(settings, spec, scenario, policies, labels, goals)
    _write(out, settings, spec, candidates, front, convergence, reevaluation, policies, notes)
    return SearchResult(out, labels, goals, candidates, front, convergence, reevaluation, notes)


def reevaluate(settings: SearchSettings, spec: SearchSpec, scenario: Scenario,
               policies: dict[str, Policy], labels: list[str], goals: list[str]
               ) -> tuple[pd.DataFrame, list[str]]:
    """The front and the scenario's own policies on fresh futures (another seed, usually more
    of them): which candidates stay non-dominated, and where each of the scenario's policies
    sits (dominated or not, by which)."""
    fresh = sample_futures(scenario, settings.check_futures, settings.fresh_seed)
    judge = Judge(scenario, spec, fresh, settings.fresh_seed, settings.requirements)
    own = {name: scenario.policies[name] for name in scenario.default_policies}
    scored = {name: judge.score(outcomes)
              for name, outcomes in judge.outcomes({**policies, **own}).items()}
    rows = []
    for name, (values, constraints) in scored.items():
        rows.append({"name": name, "kind": "searched" if name in policies else "scenario",
                     **dict(zip(labels, values, strict=True)),
                     "feasible": all(v <= 0 for v in judge.violations(constraints))})
    table = pd.DataFrame(rows)
    minimized = as_minimized(table[labels].to_numpy(dtype=float), goals)
    feasible = table["feasible"].to_numpy(dtype=bool)
    front = np.zeros(len(table), dtype=bool)
    if feasible.any():
        front[feasible] = pareto_front(minimized[feasible])
    table["non_dominated"] = front
    table["dominated_by"] = [
        ", ".join(table.loc[dominated_by(minimized, minimized[i]) & feasible, "name"])
        for i in range(len(table))]
    notes = []
    searched = table["kind"] == "searched"
    notes.append(f"{int((front & searched).sum())} of {int(searched.sum())} searched policies "
                 f"stay non-dominated on {settings.check_futures:,} fresh futures (seed "
                 f"{settings.fresh_seed})")
    for _, row in table.loc[~searched].iterrows():
        by = [name for name in row["dominated_by"].split(", ") if name]
        shown = ", ".join(by[:5]) + (f" and {len(by) - 5} more" if len(by) > 5 else "")
        notes.append(f"{row['name']}: " + (f"dominated by {len(by)} ({shown})" if by
                                           else "not dominated"))
    return table, notes


def _write(out: Path, settings: SearchSettings, spec: SearchSpec, candidates: pd.DataFrame,
           front: pd.DataFrame, convergence: pd.DataFrame, reevaluation: pd.DataFrame | None,
           policies: dict[str, Policy], notes: list[str]) -> None:
    import pyarrow as pa

    def parquet(name: str, frame: pd.DataFrame) -> None:
        table = frame.copy()
        for column in table.columns:  # a lever may hold mixed types (choices): text
            if table[column].dtype == object:
                table[column] = table[column].map(lambda v: v if isinstance(v, str) else
                                                  json.dumps(v, default=str))
        write_parquet(out / name, pa.Table.from_pandas(table, preserve_index=False))

    parquet("candidates.parquet", candidates)
    parquet("front.parquet", front)
    parquet("convergence.parquet", convergence)
    if reevaluation is not None:
        parquet("reevaluation.parquet", reevaluation)
    dumped = {name: policy.model_dump(mode="json", exclude_defaults=True)
              for name, policy in policies.items()}
    write_text(out / "front.yaml", "# Policies found by offramp search: paste under a "
               "scenario's `policies:`\n" + yaml.safe_dump({"policies": dumped},
                                                          sort_keys=False))
    write_json(out / "search.json", {"settings": dataclasses.asdict(settings),
                                     "search": spec.model_dump(mode="json"), "notes": notes})

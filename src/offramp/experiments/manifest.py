"""The run manifest: what a run folder's `manifest.json` says about how its results were made.

One typed record, written by `offramp.experiments.runner` when a run starts and read back by
every layer above (studies, report, CLI) through `RunManifest.of(store)`, so a field is named in
one place and a folder whose manifest was damaged or edited by hand is refused with the field
that is wrong. The store keeps its own bookkeeping beside it (`format_version`, `status`,
`chunks`); those are read here too, and written only by the store.
"""

from __future__ import annotations

import datetime as dt
import platform
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from offramp.scenario.schema import Scenario
from offramp.scenario.walk import scenario_parameters
from offramp.store import RunStore, StoreError

VERSIONED_PACKAGES = ("offramp", "numpy", "scipy", "pandas", "pyarrow", "pydantic")


class SaltelliDesign(BaseModel):
    """How a Saltelli design laid out its futures (what Sobol indices need to know)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    futures_requested: int
    base_samples: int
    rows_per_base_sample: int
    second_order: bool
    parameters: list[str]
    note: str


class BranchRecord(BaseModel):
    """Where a branched run's futures come from (`offramp run --from RUN --week W`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_run: str = Field(description="The run folder it branched from.")
    from_run_hash: str | None = Field(description="That run's run_hash.")
    week: int = Field(ge=1, description="The branch week: history before it, policies after.")
    under: str = Field(description="The policy followed until the branch week.")
    parent_seed: int
    conditioned: bool = Field(description="Futures resampled by the parent's weights.")
    weights: dict[str, Any] | None = Field(
        description="The settings of the weights resampled by (observations, method, under).")
    effective_sample_size: float = Field(
        description="Kish's effective sample size of the weights resampled by.")
    parents_sha256: str


class RunManifest(BaseModel):
    """Everything that defines a run's results, and where they came from."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    scenario: str = Field(description="The scenario's name.")
    scenario_source: str = Field(description="The file or built-in it was read from.")
    scenario_hash: str = Field(description="sha256 of the resolved scenario.")
    scenario_data: dict[str, Any] = Field(description="The resolved scenario (extends, --set).")
    scenario_meta: dict[str, Any] = Field(description="Its `scenario:` section, as JSON.")
    parameters: list[dict[str, str]] = Field(description="Every parameter: value, unit, source.")
    policy_details: list[dict[str, str]]
    overrides: list[str]
    policies: list[str]
    sampler: str
    saltelli: SaltelliDesign | None = None
    branch: BranchRecord | None = None
    seed: int
    n_futures: int
    chunk_size: int
    chunk_bounds: list[tuple[int, int]]
    series: bool
    requirements: list[str]
    versions: dict[str, str]
    created: str
    run_hash: str | None = Field(
        default=None, description="sha256 of what decides the numbers (runner.RUN_DEFINING), "
        "checked on resume; None in runs made before it was recorded.")
    # The store's bookkeeping (offramp.store.run_store).
    checksums: dict[str, str] = Field(
        default_factory=dict, description="digest of every file written (XXH3-128; a bare "
        "sha256 in older runs), by relative path (checked on resume and by `offramp doctor`); "
        "empty in runs made before it was kept.")
    format_version: int
    status: Literal["running", "complete"]
    chunks: dict[str, Literal["pending", "done"]]

    @classmethod
    def of(cls, store: RunStore) -> RunManifest:
        """The store's manifest, checked field by field (a StoreError names the bad field)."""
        try:
            return cls.model_validate(store.manifest)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or "(the whole file)"
            raise StoreError(
                f"{store.root / 'manifest.json'}: field '{field}': {first['msg']} "
                f"({error.error_count()} problem{'s' if error.error_count() > 1 else ''}); "
                "the folder was damaged or edited: start a new run"
            ) from None

    @property
    def title(self) -> str:
        return str(self.scenario_meta.get("title", self.scenario))

    @property
    def offramp_version(self) -> str:
        return self.versions.get("offramp", "unknown")

    def scenario_model(self) -> Scenario:
        """The run's scenario as this version of offramp reads it (a StoreError if it cannot:
        a run made by another version holds history, not a model)."""
        try:
            return Scenario.model_validate(self.scenario_data)
        except ValidationError as error:
            raise StoreError(
                f"this run's scenario '{self.scenario}' does not load in this version of offramp "
                f"({error.error_count()} problems)"
            ) from None

    def unit_of(self) -> dict[str, str]:
        """Parameter path -> unit."""
        return {row["parameter"]: row.get("unit", "") for row in self.parameters}


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def parameter_provenance(scenario: Scenario) -> list[dict[str, str]]:
    """Every parameter with its value or distribution, unit and source (for the report)."""
    return [
        {
            "parameter": path,
            "value or distribution": param.describe(),
            "unit": param.unit,
            "source": param.source,
        }
        for path, param in scenario_parameters(scenario).items()
    ]


def policy_details(scenario: Scenario, name: str) -> dict[str, str]:
    policy = scenario.policies[name]
    levers = policy.model_dump(exclude={"description", "source"})
    return {
        "policy": name,
        "description": policy.description,
        "source": policy.source,
        "levers": ", ".join(f"{key}={value}" for key, value in levers.items()),
    }


def created_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

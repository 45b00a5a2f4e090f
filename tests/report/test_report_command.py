"""`offramp report RUN` renders what the run folder stores: it never runs the engine, and it needs
neither the engine nor the run's scenario to load in this version of offramp (the report shows
history; `offramp claims RUN` or `judge_claims` is what runs the claims)."""

from __future__ import annotations

import json

import pytest

import offramp.engine
import offramp.engine.model
import offramp.experiments.simulate
import offramp.studies.claims
from helpers import claims_section, run_cli
from offramp.experiments.manifest import RunManifest
from offramp.scenario.loader import load_scenario
from offramp.store import RunStore, StoreError
from offramp.studies.claims import evaluate_claims
from offramp.studies.summary import judge_claims


class EngineCalled(AssertionError):
    """The engine ran where it must not."""


def _engine_must_not_run(*args, **kwargs):
    raise EngineCalled("offramp report ran the engine")


# Every name through which the rest of the package reaches the engine: the engine's `simulate`
# (offramp.engine re-exports it; offramp.experiments.simulate imports it by name) and
# `run_futures`, which the claims import by name (the runner and the war endings look it up in
# offramp.experiments.simulate).
ENGINE_ENTRIES = (
    (offramp.engine.model, "simulate"),
    (offramp.engine, "simulate"),
    (offramp.experiments.simulate, "simulate"),
    (offramp.experiments.simulate, "run_futures"),
    (offramp.studies.claims, "run_futures"),
)


def test_report_renders_stored_results_without_the_engine(kursk_run, copy_run, monkeypatch):
    store = copy_run(kursk_run)
    judged = judge_claims(store)
    assert judged is not None
    assert (store.root / "results" / "claims.parquet").is_file()
    claim_ids = [result.claim_id for result in judged.results]
    assert set(claim_ids) == set(load_scenario("kursk-2024").scenario.claims) != set()

    # The run's scenario no longer validates (as if made by another version of offramp) ...
    path = store.root / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["scenario_data"]["combat"]["a_field_from_another_version"] = 1.0
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    edited = RunManifest.of(RunStore.open(store.root))  # ... while the manifest itself does
    with pytest.raises(StoreError, match="does not load in this version"):
        edited.scenario_model()

    # ... and every way into the engine fails.
    for module, name in ENGINE_ENTRIES:
        monkeypatch.setattr(module, name, _engine_must_not_run)
    with pytest.raises(EngineCalled):  # the patches bite: judging claims now fails
        evaluate_claims("kursk-2024", n_futures=10, claims=[claim_ids[0]])

    (store.root / "report.html").unlink(missing_ok=True)
    result = run_cli("report", str(store.root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "report:" in result.stdout
    claims_section((store.root / "report.html").read_text(encoding="utf-8"), claim_ids)

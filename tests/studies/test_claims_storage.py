"""Claims stored with a run (results/claims.parquet) come back as they were judged: every field,
and the regions with their boxes."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from offramp.analysis.discovery import Box
from offramp.analysis.regions import Region
from offramp.store import RunStore
from offramp.studies.claims import (
    ClaimResult,
    RunClaims,
    claims_frame,
    evaluate_run_claims,
    load_claims,
    save_claims,
)


def _regions(results: list[ClaimResult]) -> list[Region]:
    return [region for result in results for region in (result.failure, result.holding)
            if region is not None]


def _assert_round_trip(store: RunStore, judged: RunClaims) -> RunClaims:
    assert load_claims(store) is None, "claims stored before the test stored them"
    path = save_claims(store, judged)
    assert path.is_file() and path.parent.name == "results"
    loaded = load_claims(RunStore.open(store.root))
    assert loaded is not None
    pd.testing.assert_frame_equal(claims_frame(loaded.results), claims_frame(judged.results),
                                  check_exact=True)
    for field in ("scenario", "seed", "n_used", "n_run", "selection"):
        assert getattr(loaded, field) == getattr(judged, field), field
    assert loaded.root == store.root
    # The regions are objects again, equal to the judged ones (boxes included).
    assert _regions(loaded.results) == _regions(judged.results)
    for before, after in zip(judged.results, loaded.results, strict=True):
        assert type(after.failure) is Region
        assert after.holding is None or type(after.holding) is Region
        assert (after.failure.box is None) == (before.failure.box is None)
    return loaded


def test_claims_judged_on_a_run_round_trip(kursk_run_600, copy_run):
    # kursk-2024 at 600 futures, seed 3, whatever regions its claims have (boxes are round-
    # tripped for certain by the hand-built test below), caveats included.
    store = copy_run(kursk_run_600)
    judged = evaluate_run_claims(store)
    loaded = _assert_round_trip(store, judged)
    boxes = [r for r in _regions(judged.results) if r.kind == "box"]
    assert [r for r in _regions(loaded.results) if r.kind == "box"] == boxes
    assert all(isinstance(region.box, Box) for region in boxes)
    assert [r.caveats for r in loaded.results] == [r.caveats for r in judged.results]
    assert any(r.caveats for r in judged.results)


def _result(claim_id: str, failure: Region, holding: Region | None, **changes) -> ClaimResult:
    fields = dict(
        claim_id=claim_id, statement=f"The claim {claim_id}.", kind="paired",
        outcome="a_territory_share", expect="higher", arm="arm-and-hold", versus="drip-feed",
        tolerance=0.0, n_futures=100, n_compared=98, holds_share=0.25, fails_share=0.7,
        tie_share=0.05, mean_effect=-0.0125, ci_low=-0.02, ci_high=-0.005,
        verdict="holds only under conditions", failure=failure, holding=holding,
    )
    return ClaimResult(**{**fields, **changes})


def test_hand_made_claims_round_trip(kursk_run, copy_run):
    """Every kind of region: a numeric and categorical box with the edges of the data, a holding
    box with its confirmation, the reasons for no box, and a claim that was not testable."""
    numeric_box = Box(limits={"combat.noise_sd": (0.125, 0.5), "actors.a.reserves": (-1e6, 3.0)},
                      coverage=0.75, density=0.875, mass=0.3125, n_futures=30, n_interest=27,
                      data_range={"combat.noise_sd": (0.1, 0.6),
                                  "actors.a.reserves": (-1e6, 10.0)})
    mixed_box = Box(limits={"posture": frozenset({"hold", "withdraw"}), "x": (0.0, 0.25)},
                    coverage=0.5, density=0.9, mass=0.2, n_futures=20, n_interest=18,
                    data_range={"x": (0.0, 1.0)})
    results = [
        _result("boxed", Region("box", 70, 98, numeric_box, binary=("actors.a.reserves",)),
                Region("box", 25, 98, mixed_box, confirmed_mass=0.1875,
                       confirmed_share=0.6)),
        _result("spread", Region("spread", 40, 98), None, verdict="fails"),
        _result("nothing", Region("none", 0, 98), None, verdict="holds", fails_share=0.0),
        _result("untestable", Region("not_compared"), None, verdict="not testable",
                n_compared=0, holds_share=math.nan, fails_share=math.nan, tie_share=math.nan,
                mean_effect=math.nan, ci_low=math.nan, ci_high=math.nan),
    ]
    store = copy_run(kursk_run)
    judged = RunClaims(results=results, scenario="kursk-2024", root=store.root, seed=7,
                       n_used=98, n_run=300, selection="the first 98 (of 300)")
    loaded = _assert_round_trip(store, judged)
    boxed = loaded.results[0]
    assert boxed.failure.box == numeric_box and boxed.holding.box == mixed_box
    assert boxed.failure.binary == ("actors.a.reserves",)
    assert isinstance(boxed.holding.box.limits["posture"], frozenset)
    assert (boxed.holding.confirmed_mass, boxed.holding.confirmed_share) == (0.1875, 0.6)
    untestable = loaded.results[-1]
    assert untestable.verdict == "not testable" and math.isnan(untestable.mean_effect)


@pytest.mark.parametrize("kind", ["none", "everywhere", "too_few", "spread", "no_parameters",
                                  "not_compared"])
def test_a_region_without_a_box_round_trips_through_its_dict(kind):
    region = Region(kind, 3, 10)
    assert Region.from_dict(region.to_dict()) == region

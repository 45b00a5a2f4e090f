"""A claim's direction: `expect: lower` turns the effect around, and verdicts follow exactly
(the pure functions, directed_effect and directed_interval, are tests/analysis/test_paired.py's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offramp.analysis.paired import (
    PairedShares,
    bootstrap_mean_ci,
    directed_effect,
    directed_interval,
    paired_shares,
    verdict_for,
)
from offramp.scenario.schema import Claim
from offramp.studies.claims import ClaimComparison, evaluate_claims, judge

SOURCE = "assumption: a claim written only to test its direction"


def make_claim(expect: str, tolerance: float = 0.0) -> Claim:
    return Claim.model_validate({
        "statement": f"The arm's outcome is {expect}.",
        "source": SOURCE,
        "arm": {"policy": "arm-and-hold"},
        "versus": {"policy": "drip-feed"},
        "outcome": "a_territory_share",
        "expect": expect,
        "tolerance": tolerance,
    })


def judged(effect, expect: str, tolerance: float = 0.0):
    """Judge a claim on hand-made per-future effects (arm minus versus), without PRIM: no
    parameter varies across these futures, so there is no region to search."""
    effect = np.asarray(effect, dtype=float)
    index = pd.RangeIndex(effect.size, name="future")
    futures = pd.DataFrame({"x": np.full(effect.size, 0.5)}, index=index)
    comparison = ClaimComparison(effect=effect, futures=index, versus_label="drip-feed")
    return judge("hand_made", make_claim(expect, tolerance), comparison, "arm-and-hold", futures,
                 effect.size, seed=0)


def around(centre: float, spread: float = 0.05, n: int = 200) -> np.ndarray:
    """`n` effects spread evenly over [centre - spread, centre + spread]."""
    return np.linspace(centre - spread, centre + spread, n)


# --- judged on hand-made effects ---------------------------------------------------------------


@pytest.mark.parametrize(
    "effect, expect, tolerance, verdict",
    [
        # A clear improvement in the claimed direction.
        (around(-1.0), "lower", 0.0, "holds"),
        (around(+1.0), "higher", 0.0, "holds"),
        # A clear change the other way.
        (around(+1.0), "lower", 0.0, "fails"),
        (around(-1.0), "higher", 0.0, "fails"),
        # No change at all: the interval is [0, 0], not above 0.
        (np.zeros(50), "lower", 0.0, "fails"),
        # ... but a tie is within any tolerance.
        (np.zeros(50), "lower", 0.1, "holds"),
        # Non-inferiority, lower: much better in 60% of futures, slightly worse (by 0.05, within
        # the tolerance of 0.1) in the other 40%.
        (np.r_[np.full(60, -0.5), np.full(40, 0.05)], "lower", 0.1, "holds"),
        # ... the same with the slight loss beyond the tolerance: worse in 40% is still fewer
        # than better in 60%, and the mean is clearly better.
        (np.r_[np.full(60, -0.5), np.full(40, 0.2)], "lower", 0.1, "holds"),
        # ... worse by 0.3 on average, more than the tolerance of 0.1 allows.
        (around(+0.3), "lower", 0.1, "fails"),
        # ... worse by 0.05 everywhere, within a tolerance of 0.1.
        (around(+0.05, spread=0.01), "lower", 0.1, "holds"),
        # A mean carried by a few futures: better on average, worse in most futures.
        (np.r_[np.full(30, -2.0), np.full(70, 0.1)], "lower", 0.0, "fails"),
        # The same pattern the other way up for a higher claim.
        (np.r_[np.full(30, 2.0), np.full(70, -0.1)], "higher", 0.0, "fails"),
    ],
)
def test_hand_made_effects_get_the_exact_verdict(effect, expect, tolerance, verdict):
    result = judged(effect, expect, tolerance)
    assert result.verdict == verdict, (result.holds_share, result.fails_share, result.ci_low,
                                       result.ci_high)
    assert result.expect == expect and result.n_compared == len(effect)
    assert result.mean_effect == pytest.approx(float(np.mean(effect)))


def test_a_lower_claim_counts_futures_where_the_arm_is_lower():
    result = judged(np.r_[np.full(70, -1.0), np.full(20, 0.5), np.zeros(10)], "lower")
    assert (result.holds_share, result.fails_share, result.tie_share) == (0.7, 0.2, 0.1)
    assert result.ci_high < 0 and result.verdict == "holds"
    flipped = judged(np.r_[np.full(70, -1.0), np.full(20, 0.5), np.zeros(10)], "higher")
    assert (flipped.holds_share, flipped.fails_share, flipped.tie_share) == (0.2, 0.7, 0.1)
    assert flipped.verdict == "fails"


def test_judge_follows_the_verdict_rule_by_hand():
    # The same verdict from the pure functions, put together by hand.
    effect = np.r_[np.full(60, -0.5), np.full(40, 0.05)]
    directed = directed_effect(effect, "lower")
    shares = paired_shares(directed, 0.1)
    assert shares == PairedShares(1.0, 0.0, 0.0)
    low, high = bootstrap_mean_ci(effect)
    directed_low, directed_high = directed_interval(low, high, "lower")
    assert directed_low == -high and directed_low > 0
    assert verdict_for(directed_low, shares, 0.1, False, effect.size) == "holds"
    assert judged(effect, "lower", 0.1).verdict == "holds"


def test_an_empty_comparison_is_not_testable():
    assert judged(np.array([]), "lower").verdict == "not testable"


# --- through the engine: the same arms, both directions ------------------------------------------


def test_a_lower_claim_on_the_engine_holds_where_the_arm_is_lower(tmp_path: Path):
    # arming_beats_drip_feed holds (arm-and-hold keeps more ground than drip-feed); put the other
    # way round, drip-feed keeps less ground: "lower" holds and "higher" does not.
    claims = ""
    for expect in ("lower", "higher"):
        claims += f"""  drip_feed_{expect}:
    statement: Drip-feeding aid leaves Ukraine with {expect} ground held.
    source: "{SOURCE}"
    arm: {{policy: drip-feed}}
    versus: {{policy: arm-and-hold}}
    confounded_by: the two whole policies, to test the direction on the engine
    outcome: a_territory_share
    expect: {expect}
"""
    path = tmp_path / "variant.yaml"
    path.write_text("extends: kursk-2024\nclaims:\n" + claims)
    results = {r.claim_id: r for r in evaluate_claims(
        path, n_futures=300, seed=0, claims=["drip_feed_lower", "drip_feed_higher"])}
    lower, higher = results["drip_feed_lower"], results["drip_feed_higher"]
    assert lower.mean_effect == higher.mean_effect < 0
    assert lower.ci_high < 0
    assert lower.holds_share > lower.fails_share
    assert (lower.holds_share, lower.fails_share) == (higher.fails_share, higher.holds_share)
    assert lower.verdict == "holds"
    assert higher.verdict == "fails"

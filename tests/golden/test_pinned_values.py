"""kursk-2024's pinned values: a change of the model shows here first (see pinned.py).

A failure names what moved. If the change is intended, run `make regen-golden`, read the diff it
prints, and commit the new record with the reason.
"""

from __future__ import annotations

import json

import pinned
import pytest


@pytest.fixture(scope="module")
def values() -> tuple[dict, dict]:
    return json.loads(pinned.RECORD.read_text()), pinned.compute()


def test_policies_and_claims_match_the_record(values):
    recorded, current = values
    moved = pinned.differences(recorded, current)
    assert not moved, "pinned values moved (make regen-golden if on purpose):\n" + "\n".join(moved)


def test_outcomes_are_bit_identical_on_the_recording_machine(values):
    recorded, current = values
    if recorded["machine"] == current["machine"]:
        assert current["outcomes_sha256"] == recorded["outcomes_sha256"], (
            "kursk-2024's outcomes changed in their last bits: a refactor must not do that")
    else:  # another CPU's SIMD paths round differently: the tolerances above still hold
        assert pinned.differences(recorded, current) == []


def test_the_tolerances_catch_a_moved_value(values):
    recorded, _ = values
    nudged = json.loads(json.dumps(recorded))
    first = next(iter(nudged["policies"].values()))
    first["ended_share"] += 2 * pinned.SHARE_TOLERANCE
    claim = next(iter(nudged["claims"].values()))
    claim["verdict"] = "not testable"
    moved = pinned.differences(recorded, nudged)
    assert len(moved) == 2 and any("ended_share" in line for line in moved)

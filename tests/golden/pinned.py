"""Pinned values of kursk-2024: what the model says today, recorded so a change is seen.

`python tests/golden/pinned.py` prints the values the current code gives next to the recorded
ones; `--write` records them (`make regen-golden`). Change them only on purpose, and say in the
commit why they moved. The test `tests/golden/test_pinned_values.py` compares with tolerances that a
change of the model breaks but the last bits of float arithmetic on another CPU do not; the
hash of the outcomes is compared exactly where the machine's NumPy SIMD features match the
recording machine's (a refactor must leave it unchanged).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

RECORD = Path(__file__).with_name("kursk-2024.json")
SCENARIO, FUTURES, SEED = "kursk-2024", 2_000, 0
# A future flipping costs 1/2000 = 0.0005 of a share: up to 6 flips pass, a changed model does not.
SHARE_TOLERANCE = 0.003
TERRITORY_TOLERANCE = 0.002


def machine() -> str:
    """NumPy's version and the SIMD extensions it dispatches to (they set the last bits)."""
    from numpy._core._multiarray_umath import __cpu_features__

    return f"numpy {np.__version__}; " + ",".join(sorted(k for k, on in __cpu_features__.items()
                                                         if on))


def outcomes_digest(outcomes: pd.DataFrame) -> str:
    """sha256 over every outcome column's bytes, in the file's row order."""
    digest = hashlib.sha256()
    for name in outcomes.columns:
        digest.update(name.encode())
        values = outcomes[name].to_numpy()
        if values.dtype == object:  # text: its characters, not the addresses of its objects
            digest.update("\x00".join(map(str, values)).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def compute() -> dict:
    """Run kursk-2024 (2,000 futures, seed 0) and judge its claims on the same futures."""
    from offramp.experiments.runner import RunSettings, start_run
    from offramp.studies.claims import evaluate_run_claims

    with tempfile.TemporaryDirectory() as folder:
        store = start_run(RunSettings(scenario=SCENARIO, n_futures=FUTURES, seed=SEED),
                          Path(folder) / "run")
        outcomes = store.read_outcomes()
        claims = evaluate_run_claims(store, max_futures=FUTURES).results
    policies = {}
    for policy, rows in outcomes.groupby("policy", sort=False):
        policies[policy] = {
            "ended_share": float(rows["ended"].mean()),
            "median_territory_share": float(rows["a_territory_share"].median()),
            "two_front_war_share": float(rows["two_front_war"].mean()),
        }
    return {
        "settings": {"scenario": SCENARIO, "futures": FUTURES, "seed": SEED},
        "policies": policies,
        "claims": {
            r.claim_id: {"verdict": r.verdict, "effect_sign": int(np.sign(r.mean_effect)),
                         "mean_effect": float(r.mean_effect), "holds_share": float(r.holds_share)}
            for r in claims
        },
        "outcomes_sha256": outcomes_digest(outcomes),
        "machine": machine(),
    }


def differences(recorded: dict, current: dict) -> list[str]:
    """Lines saying what moved beyond the tolerances (empty: nothing did)."""
    lines = []
    for policy, values in current["policies"].items():
        old = recorded["policies"].get(policy)
        if old is None:
            lines.append(f"{policy}: new policy")
            continue
        for key, tolerance in (("ended_share", SHARE_TOLERANCE),
                               ("two_front_war_share", SHARE_TOLERANCE),
                               ("median_territory_share", TERRITORY_TOLERANCE)):
            if abs(values[key] - old[key]) > tolerance:
                lines.append(f"{policy} {key}: {old[key]:.4f} -> {values[key]:.4f}")
    for claim, values in current["claims"].items():
        old = recorded["claims"].get(claim)
        if old is None:
            lines.append(f"claim {claim}: new")
            continue
        for key in ("verdict", "effect_sign"):
            if values[key] != old[key]:
                lines.append(f"claim {claim} {key}: {old[key]} -> {values[key]}")
    for gone in set(recorded["policies"]) - set(current["policies"]):
        lines.append(f"{gone}: policy gone")
    for gone in set(recorded["claims"]) - set(current["claims"]):
        lines.append(f"claim {gone}: gone")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record the current values")
    args = parser.parse_args()
    current = compute()
    recorded = json.loads(RECORD.read_text()) if RECORD.is_file() else None
    if recorded is None:
        print("no recorded values yet")
    else:
        moved = differences(recorded, current)
        print("\n".join(moved) if moved else "every pinned value within its tolerance")
        same = recorded["outcomes_sha256"] == current["outcomes_sha256"]
        print(f"outcomes bit-identical to the record: {'yes' if same else 'no'}")
    if args.write:
        RECORD.write_text(json.dumps(current, indent=2) + "\n")
        print(f"recorded in {RECORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Global sensitivity (offramp.analysis.sensitivity) on functions with known answers.

Ishigami (x1, x2, x3 uniform on [-pi, pi], a = 7, b = 0.1) has analytic Sobol indices
S1 = 0.314, S2 = 0.442, S3 = 0 and ST1 = 0.558, ST2 = 0.442, ST3 = 0.244 (Saltelli et al. 2008);
y = 5 x1 + 2 x2 + 0 x3 ranks x1 > x2 > x3 under any sensible index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offramp.analysis import sensitivity
from offramp.errors import UserError
from offramp.experiments.sampling import saltelli_design

ISHIGAMI_BOUNDS = {"x1": (-np.pi, np.pi), "x2": (-np.pi, np.pi), "x3": (-np.pi, np.pi)}


def ishigami(X: pd.DataFrame) -> np.ndarray:
    x1, x2, x3 = (X[c].to_numpy() for c in ("x1", "x2", "x3"))
    return np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)


def linear_sample(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["x1", "x2", "x3"])
    return X, 5 * X["x1"].to_numpy() + 2 * X["x2"].to_numpy() + 0 * X["x3"].to_numpy()


def test_sobol_on_ishigami_matches_the_analytic_indices():
    design = saltelli_design(ISHIGAMI_BOUNDS, n=2048, seed=1)
    assert design.shape == (2048 * 5, 3)
    X = pd.DataFrame(design, columns=list(ISHIGAMI_BOUNDS))
    table = sensitivity(X, ishigami(X), method="sobol", bounds=ISHIGAMI_BOUNDS)
    assert table.index.tolist() == ["x1", "x2", "x3"]  # by total order: 0.56 > 0.44 > 0.24
    assert table.loc[["x1", "x2", "x3"], "ST"].to_numpy() == pytest.approx(
        [0.558, 0.442, 0.244], abs=0.04)
    assert table.loc[["x1", "x2", "x3"], "S1"].to_numpy() == pytest.approx(
        [0.314, 0.442, 0.0], abs=0.04)
    assert {"importance", "S1", "S1_conf", "ST", "ST_conf"} <= set(table.columns)
    assert (table["importance"] == table["ST"]).all()


def test_sobol_reads_second_order_designs():
    design = saltelli_design(ISHIGAMI_BOUNDS, n=1024, seed=2, calc_second_order=True)
    assert design.shape == (1024 * 8, 3)
    X = pd.DataFrame(design, columns=list(ISHIGAMI_BOUNDS))
    table = sensitivity(X, ishigami(X), method="sobol", problem={
        "names": list(ISHIGAMI_BOUNDS), "bounds": list(ISHIGAMI_BOUNDS.values())})
    second = table.attrs["S2"]
    assert second.loc["x1", "x3"] == pytest.approx(0.244, abs=0.08)  # the x1-x3 interaction
    assert abs(second.loc["x1", "x2"]) < 0.08


@pytest.mark.parametrize("method", ["pawn", "delta"])
def test_given_data_methods_rank_a_linear_function(method):
    X, y = linear_sample()
    table = sensitivity(X, y, method=method)
    assert table.index.tolist() == ["x1", "x2", "x3"]
    importance = table["importance"]
    assert importance["x1"] > 2 * importance["x2"] > 2 * importance["x3"]
    assert table.index.name == "parameter"


def test_delta_reports_confidence_intervals():
    X, y = linear_sample(2000)
    table = sensitivity(X, y, method="delta", num_resamples=10)
    assert any(c.endswith("_conf") for c in table.columns)


def test_constant_columns_are_listed_last_with_no_importance():
    X, y = linear_sample()
    X["fixed"] = 3.0
    table = sensitivity(X, y, method="pawn")
    assert table.index[-1] == "fixed"
    assert table.loc["fixed", "importance"] == 0.0
    assert table.loc["fixed", "median"] == 0.0


def test_large_tables_are_subsampled_reproducibly():
    X, y = linear_sample(6000, seed=3)
    first = sensitivity(X, y, method="pawn", max_rows=1000, seed=5)
    again = sensitivity(X, y, method="pawn", max_rows=1000, seed=5)
    whole = sensitivity(X, y, method="pawn", max_rows=10_000, seed=5)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(whole)


def test_salib_leaves_the_global_random_state_alone():
    X, y = linear_sample(1500)
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    sensitivity(X, y, method="delta", num_resamples=5)
    assert np.random.random() == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda X, y: sensitivity(X, y, method="morris"), "unknown sensitivity method"),
        (lambda X, y: sensitivity(X.assign(kind="a"), y), "'kind' of X is not numeric"),
        (lambda X, y: sensitivity(X, y[:-1]), "one value per row"),
        (lambda X, y: sensitivity(X.iloc[:7], y[:7], method="sobol"), "Saltelli design"),
        (lambda X, y: sensitivity(X, y, problem={"names": ["x9"], "bounds": [[0, 1]]}), "x9"),
    ],
)
def test_bad_input_is_a_user_error(call, message):
    X, y = linear_sample(100)
    with pytest.raises(UserError, match=message):
        call(X, y)


@pytest.mark.parametrize(("n", "kind"), [(3000, "continuous"), (2000, "binary"), (1501, "ties"),
                                         (12_000, "continuous"), (12_001, "ties"), (37, "ties"),
                                         (10_000, "binary")])
def test_pawn_gives_salib_numbers_to_the_last_bit(n, kind):
    """`pawn_indices` replaces SALib's loop of ks_2samp calls; it must not change a number
    (exact KS below 10,001 rows, floating point above; ties in X and in y)."""
    import warnings

    from SALib.analyze import pawn

    from offramp.analysis.sensitivity import pawn_indices

    rng = np.random.default_rng(n)
    X = rng.uniform(size=(n, 5))
    X[:, 0] = np.round(X[:, 0] * 4)  # a parameter with few distinct values
    noise = rng.normal(size=n)
    y = {"continuous": 2 * X[:, 1] + noise, "binary": (X[:, 1] + 0.3 * noise > 0.6) * 1.0,
         "ties": np.round(5 * X[:, 1] + noise)}[kind]
    problem = {"num_vars": 5, "names": [f"x{i}" for i in range(5)], "bounds": [[0, 1]] * 5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pawn.analyze(problem, X, y)
    ours = pawn_indices(X, y)
    for key, values in ours.items():
        np.testing.assert_array_equal(values, np.asarray(expected[key]), err_msg=key)


def test_pawn_edges_kept_across_outcomes_give_the_same_tables():
    """`known` keeps the slides' edges of each set of rows: one entry for two outcomes on the
    same rows, another once a NaN drops a row, and every table as computed afresh."""
    X, y = linear_sample()
    other = np.sin(7 * X["x1"].to_numpy()) + X["x3"].to_numpy()
    with_gap = y.copy()
    with_gap[5] = np.nan
    known: dict[bytes, np.ndarray] = {}
    for outcome in (y, other, with_gap):
        pd.testing.assert_frame_equal(sensitivity(X, outcome, method="pawn", known=known),
                                      sensitivity(X, outcome, method="pawn"))
    assert len(known) == 2

"""The pieces of scipy.stats that `offramp run` needs, computed without importing it (it costs
~0.7 CPU-s of every command's start): the same numbers as SciPy's, bit for bit, and a command's
path that indeed never imports it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from offramp.analysis.discovery import binomial_upper_tail
from offramp.analysis.paired import average_ranks
from offramp.scenario.params import LogNormal, Triangular


def test_binomial_upper_tail_is_binomtests_greater_p_value():
    rng = np.random.default_rng(0)
    cases = [(0, 5, 0.3), (5, 5, 0.3), (1, 1, 0.0), (1, 1, 1.0), (0, 1, 0.0), (3, 10, 1.0),
             (7, 10, 0.0), (50, 100, 0.5)]
    for _ in range(3000):
        n = int(rng.integers(1, 20_000))
        k = int(rng.integers(0, n + 1))
        p = float(rng.choice([rng.random(), rng.random() * 1e-4, 1 - rng.random() * 1e-4, k / n]))
        cases.append((k, n, p))
    for k, n, p in cases:
        expected = stats.binomtest(k, n, p, alternative="greater").pvalue
        assert binomial_upper_tail(k, n, p) == expected, (k, n, p)


@pytest.mark.parametrize("shape", [(1, 1), (9, 1), (1000, 4), (10_000, 3)])
def test_average_ranks_are_rankdatas_in_the_same_memory_order(shape):
    rng = np.random.default_rng(1)
    values = rng.integers(0, 7, size=shape).astype(float)  # many ties
    values[:, -1] = rng.normal(size=shape[0])  # and none
    if shape[0] > 2:
        values[0, 0], values[1, 0] = -0.0, 0.0  # equal, so tied
    expected = stats.rankdata(values, axis=0)
    ranks = average_ranks(values)
    np.testing.assert_array_equal(ranks, expected)
    assert ranks.flags.f_contiguous == expected.flags.f_contiguous
    # the centring `centered_ranks` applies then rounds the same way
    np.testing.assert_array_equal(ranks - ranks.mean(axis=0), expected - expected.mean(axis=0))


def _uniforms() -> np.ndarray:
    rng = np.random.default_rng(2)
    return np.concatenate([[0.0, 1.0, np.nan, 1e-300, 5e-324, 1 - 2**-53, 0.5],
                           rng.random(10_000), rng.random(100) * 1e-12])


@pytest.mark.parametrize("low, mode, high", [(40, 60, 90), (0, 0, 1), (0, 1, 1), (-3, -1, 2.5),
                                             (0.1, 0.1000001, 0.2)])
def test_triangular_ppf_is_scipys(low, mode, high):
    param = Triangular(dist="triangular", low=low, mode=mode, high=high, unit="x",
                       source="assumption: a test of the inverse CDF only")
    q = _uniforms()
    width = high - low
    expected = stats.triang.ppf(q, (mode - low) / width, loc=low, scale=width)
    np.testing.assert_array_equal(param.ppf(q), expected)


@pytest.mark.parametrize("median, sigma", [(1.0, 0.5), (3e5, 0.25), (0.02, 5.0), (7, 1e-6)])
def test_lognormal_ppf_is_scipys(median, sigma):
    param = LogNormal(dist="lognormal", median=median, sigma=sigma, unit="x",
                      source="assumption: a test of the inverse CDF only")
    q = _uniforms()
    expected = stats.lognorm.ppf(q, sigma, scale=median)
    np.testing.assert_array_equal(param.ppf(q), expected)


def test_a_run_and_its_claims_and_report_never_import_scipy_stats(tmp_path):
    # a fresh interpreter: this one imported scipy.stats above
    script = (
        "import sys\n"
        "from offramp.cli import main\n"
        f"sys.argv = ['offramp', 'run', 'kursk-2024', '--futures', '300', '--out', "
        f"{str(tmp_path / 'run')!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as end:\n"
        "    assert not end.code, end.code\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('scipy.stats'))\n"
        "print('LOADED', loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LOADED []" in done.stdout, done.stdout[-500:]
    assert (tmp_path / "run" / "report.html").exists()

"""Historical calibration of Lanchester attrition laws.

Fits Bracken's generalized law dB/dt = -a R^p B^q, dR/dt = -b B^p R^q (and its square, linear
and logarithmic special cases) to daily battle data shipped in `offramp.data`, so that the combat
mechanism's parameters rest on stated evidence rather than on taste. Exploratory, not predictive:
a good fit to 1944-45 data says nothing certain about a 2024 front.
"""

from offramp.calibration.datasets import BattleSeries, list_datasets, load_dataset, select_days
from offramp.calibration.fit import (
    FitResult,
    LogLinearRegression,
    calibrate_laws,
    fit_law,
    log_product_regression,
    log_ratio_regression,
)
from offramp.calibration.laws import LAW_NAMES, LawParameters, simulate_daily

__all__ = [
    "LAW_NAMES",
    "BattleSeries",
    "FitResult",
    "LawParameters",
    "LogLinearRegression",
    "calibrate_laws",
    "fit_law",
    "list_datasets",
    "load_dataset",
    "log_product_regression",
    "log_ratio_regression",
    "select_days",
    "simulate_daily",
]

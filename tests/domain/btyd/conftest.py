"""Locating the CDNOW files shipped in the `lifetimes` package, without importing its code."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest


def lifetimes_datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")  # finds the package; imports none of its models
    if spec is None or spec.origin is None:
        reason = "lifetimes is not installed (pip install lifetimes): its CDNOW files are needed"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(spec.origin).parent / "datasets"


@pytest.fixture(scope="session")
def cdnow() -> dict[str, np.ndarray]:
    """The CDNOW sample summary (2,357 customers, 39 weeks) with repeat-spend means (zbar)."""
    path = lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv"
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return {"x": data[:, 1], "t_x": data[:, 2], "T": data[:, 3], "m": data[:, 4]}


@pytest.fixture(scope="session")
def cdnow_transactions() -> Path:
    return lifetimes_datasets() / "CDNOW_sample.txt"

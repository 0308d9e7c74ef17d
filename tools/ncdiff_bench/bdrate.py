"""Bjøntegaard delta rate and delta PSNR between two rate-distortion curves.

Method: the piecewise-cubic variant (as in the JVET common-test-conditions spreadsheets)
rather than the original single cubic polynomial fit. Each curve is interpolated with a
monotone piecewise cubic Hermite interpolant (``scipy.interpolate.PchipInterpolator``),
log10(rate) as a function of PSNR for BD-rate and PSNR as a function of log10(rate) for
BD-PSNR, and the two interpolants are integrated exactly over the interval where both
curves have data. Unlike a global cubic, pchip does not overshoot between points, so a
curve with unevenly spaced points (or a knee) does not distort the result.

Both functions return NaN when the comparison is undefined: a curve has fewer than 4 usable
points (the Bjøntegaard method assumes at least 4, and fewer describe too little of a
curve), or the two curves do not overlap on the integration axis. Unusable points (rate
<= 0, non-finite values, e.g. the infinite PSNR of a lossless point) are dropped first.
"""

from __future__ import annotations

import math
from typing import Sequence, Tuple

import numpy as np

MIN_POINTS = 4


def _usable(rate: Sequence[float], psnr: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Drop points a log-rate fit cannot use; return (log10 rate, psnr)."""
    rate = np.asarray(rate, dtype=np.float64)
    psnr = np.asarray(psnr, dtype=np.float64)
    if rate.shape != psnr.shape:
        raise ValueError(f"rate and PSNR lists differ in length: {rate.size} vs {psnr.size}")
    keep = np.isfinite(rate) & np.isfinite(psnr) & (rate > 0)
    return np.log10(rate[keep]), psnr[keep]


def _mean_gap(x_anchor, y_anchor, x_test, y_test, hi_cap: float = math.inf) -> float:
    """Mean of (test - anchor) of y(x) over the shared x interval (up to ``hi_cap``); NaN if undefined."""
    if x_anchor.size < MIN_POINTS or x_test.size < MIN_POINTS:
        return math.nan
    lo = max(x_anchor.min(), x_test.min())
    hi = min(x_anchor.max(), x_test.max(), hi_cap)
    if not hi > lo:
        return math.nan
    from scipy.interpolate import PchipInterpolator  # lazy: scipy.interpolate takes ~0.4 s to import

    areas = []
    for x, y in ((x_anchor, y_anchor), (x_test, y_test)):
        # pchip needs strictly increasing x: sort, and average points that share an x value.
        xs, inverse = np.unique(x, return_inverse=True)
        ys = np.bincount(inverse, weights=y) / np.bincount(inverse)
        if xs.size < 2:
            return math.nan
        areas.append(PchipInterpolator(xs, ys).integrate(lo, hi))
    return float((areas[1] - areas[0]) / (hi - lo))


def _psnr_at(log_rate: np.ndarray, psnr: np.ndarray, rate: float) -> float:
    """PSNR of a curve at ``rate`` (linear in log-rate between points, clamped to the curve)."""
    order = np.argsort(log_rate)
    return float(np.interp(math.log10(rate), log_rate[order], psnr[order]))


def bd_rate(anchor_rate, anchor_psnr, test_rate, test_psnr, max_rate: float = math.inf) -> float:
    """Average bitrate difference of test vs anchor at equal PSNR, in percent.

    Negative means the test codec needs fewer bits (e.g. -20.0: 20 % smaller files).
    Rates can be in any unit (bpp, kbps) as long as both curves use the same one.
    ``max_rate``: average only over the qualities both curves reach at or below
    this rate (e.g. the low rates, below 0.6 bpp).
    """
    la, pa = _usable(anchor_rate, anchor_psnr)
    lt, pt = _usable(test_rate, test_psnr)
    cap = math.inf
    if math.isfinite(max_rate) and la.size and lt.size:
        cap = min(_psnr_at(la, pa, max_rate), _psnr_at(lt, pt, max_rate))
    gap = _mean_gap(pa, la, pt, lt, cap)  # log10-rate gap at equal PSNR
    return math.nan if math.isnan(gap) else float((10.0**gap - 1.0) * 100.0)


def bd_psnr(anchor_rate, anchor_psnr, test_rate, test_psnr) -> float:
    """Average PSNR difference (dB) of test vs anchor at equal rate; positive = test better."""
    la, pa = _usable(anchor_rate, anchor_psnr)
    lt, pt = _usable(test_rate, test_psnr)
    return _mean_gap(la, pa, lt, pt)

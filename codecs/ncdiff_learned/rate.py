"""Quality <-> rate level mapping shared by training and coding.

One set of weights covers quality 1..100: the model learns a quantisation step
per level (gain vectors in the older architecture) and a quality picks a
continuous point between two levels.  Pure Python, no torch.
"""

# Rate-distortion trade-offs the levels are trained for (loss = lambda*255^2*MSE + bpp),
# log-spaced so that quality 1..100 spans about 0.05 to 2 bpp on Kodak.  Level 0 sits a
# wider gap below level 1: at 0.0004 it settled near 0.09 bpp, at 0.00015 near 0.05 and
# still creeping up as the model trained, hence 0.00012 for headroom.
LAMBDAS = (0.00012, 0.0009, 0.0019, 0.004, 0.0085, 0.018, 0.038, 0.08, 0.16)
LEVELS = len(LAMBDAS)


def level_for_quality(quality: float) -> float:
    """Continuous level in [0, LEVELS-1] for a quality in [1, 100]."""
    q = min(max(float(quality), 1.0), 100.0)
    return (q - 1.0) / 99.0 * (LEVELS - 1)


#: Quantisation steps at inference lie on this grid, so encoder and decoder multiply by the same numbers.
STEP_GRID = 65536.0


def step_for_quality(log_steps, quality: float):
    """(step, 1/step) of one quality from the per-level log-steps, as Python floats on a
    2**-16 grid: log-linear between levels, the same on every machine."""
    import math

    level = level_for_quality(quality)
    lo = min(int(math.floor(level)), len(log_steps) - 2)
    a = level - lo
    step = math.exp((1 - a) * log_steps[lo] + a * log_steps[lo + 1])
    return round(step * STEP_GRID) / STEP_GRID, round(STEP_GRID / step) / STEP_GRID

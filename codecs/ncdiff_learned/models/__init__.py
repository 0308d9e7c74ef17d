"""Learned transform-coding models (import torch and compressai)."""

import warnings

with warnings.catch_warnings():
    # compressai imports torch_geometric, whose import calls the deprecated torch.jit.script.
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    import compressai  # noqa: F401

from .gained_checkerboard import GainedCheckerboardHyperprior  # noqa: E402

__all__ = ["GainedCheckerboardHyperprior"]

"""Learned transform-coding models (import torch and compressai), one table of them."""

import warnings

with warnings.catch_warnings():
    # compressai imports torch_geometric, whose import calls the deprecated torch.jit.script.
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    import compressai  # noqa: F401

from ..grid import STRIDE  # noqa: E402
from .base import TransformCodec  # noqa: E402
from .gained_checkerboard import GainedCheckerboardHyperprior  # noqa: E402
from .step_scaled import StepScaledCheckerboardHyperprior  # noqa: E402

#: Base-codec architectures by the name stored in a weights file's metadata.
ARCHITECTURES = {
    "GainedCheckerboardHyperprior": GainedCheckerboardHyperprior,
    "StepScaledCheckerboardHyperprior": StepScaledCheckerboardHyperprior,
}

__all__ = ["ARCHITECTURES", "STRIDE", "GainedCheckerboardHyperprior", "StepScaledCheckerboardHyperprior",
           "TransformCodec"]

"""Base codec: mean-scale hyperprior + checkerboard context, variable rate by
quantisation-step scaling.

One network is trained for all rates, but the rate is set by one scalar: the
latent is quantised with a step per level (QVRF, Tong et al. 2023; CompressAI's
``*-vbr`` models, Kamisli et al. 2024).  The hyperprior and the context model
predict the Gaussian's mean and scale in the latent's own units, whatever the
level, and dividing them by the step gives the parameters of ``y / step``: no
level-specific entropy model has to be learned, which is what made the earlier
per-channel gain units untrainable from scratch at the high rates.
"""

import contextlib
import math

import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck
from compressai.latent_codecs import CheckerboardLatentCodec, HyperLatentCodec

from ..rate import LAMBDAS, LEVELS, step_for_quality
from .base import TransformCodec
from .gaussian import gaussian_latent_codec
from .transforms import (
    analysis,
    checkerboard_context,
    entropy_parameters,
    hyper_analysis,
    hyper_synthesis,
    synthesis,
)


class _Scaled(nn.Module):
    """``module(x) * factor`` or ``module(x * factor)``, with a per-sample factor set before each use.

    The checkerboard codec calls its context model and entropy-parameter network
    itself; these wrappers move their inputs and outputs between ``y``'s units
    and the step's units.
    """

    def __init__(self, module: nn.Module, scale_input: bool):
        super().__init__()
        self.module = module
        self.scale_input = scale_input
        self.factor = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale_input:
            return self.module(x * self.factor)
        return self.module(x) * self.factor


class StepScaledCheckerboardHyperprior(TransformCodec):
    """GDN transforms (N, M), a mean-scale hyperprior, a two-pass checkerboard
    context (He et al. 2021) and one learned quantisation step per rate level
    (quality 1..100 interpolates the log-step between levels).

    The entropy-parameter path (h_s, context, entropy parameters) runs in exact
    fixed point at inference (:class:`~ncdiff_learned.exact.ExactPath`); the
    step is a number on a 2**-16 grid computed in Python, so bitstreams decode
    identically on any device.
    """

    def __init__(self, N: int = 128, M: int = 192, levels: int = LEVELS):
        super().__init__()
        self.N, self.M, self.levels = N, M, levels
        self.g_a = analysis(N, M)
        self.g_s = synthesis(N, M)
        self.hyper = HyperLatentCodec(EntropyBottleneck(N), hyper_analysis(N, M), hyper_synthesis(N, M),
                                      quantizer="ste")
        self.y = CheckerboardLatentCodec(
            latent_codec={"y": gaussian_latent_codec(quantizer="ste")},
            # Parameters in y's units -> units of y / step; context input y_hat / step -> y's units.
            entropy_parameters=_Scaled(entropy_parameters(M), scale_input=False),
            context_prediction=_Scaled(checkerboard_context(M), scale_input=True),
        )
        # The top level has step 1; lower rates start at sqrt(lambda_top / lambda_i), as MSE ~ step^2.
        lambdas = LAMBDAS[:levels] if levels <= len(LAMBDAS) else LAMBDAS
        self.log_step = nn.Parameter(torch.tensor([0.5 * math.log(lambdas[-1] / lam) for lam in lambdas]))

    # -- rate control -----------------------------------------------------
    def steps(self, level: torch.Tensor) -> torch.Tensor:
        """(B, 1, 1, 1) steps for continuous levels, log-linear between levels (differentiable)."""
        lo = level.floor().clamp(0, self.levels - 2).long()
        a = level - lo.to(level.dtype)
        return torch.exp((1 - a) * self.log_step[lo] + a * self.log_step[lo + 1])[:, None, None, None]

    @torch.no_grad()
    def step_for_quality(self, quality: float):
        """(step, 1/step) of one quality as Python floats on a 2**-16 grid, the same on every machine."""
        return step_for_quality(self.log_step.detach().to("cpu", torch.float64).tolist(), quality)

    def quantization_scale(self, quality: float, device="cpu") -> torch.Tensor:
        return torch.tensor(self.step_for_quality(quality)[1], device=device)

    def _set_factors(self, step, inv_step) -> None:
        self.y.entropy_parameters.factor = inv_step
        self.y.context_prediction.factor = step

    # -- training ----------------------------------------------------------
    #: Run the entropy model in float32 under bf16 autocast (rounding y - mean and
    #: the likelihoods get more than bf16's 8 bits of mantissa).  It works at 1/16
    #: of the image's resolution, but costs a CPU about 20% of its training steps
    #: (3.1 against 3.5-3.9 steps/s here), so the trainer turns it on for GPUs only.
    entropy_fp32 = True

    def _forward_latent(self, y: torch.Tensor, level: torch.Tensor):
        full = torch.autocast(y.device.type, enabled=False) if self.entropy_fp32 else contextlib.nullcontext()
        with full:
            y = y.float() if self.entropy_fp32 else y
            step = self.steps(level)
            hyper = self.hyper(y)
            self._set_factors(step, 1.0 / step)
            out = self.y(y / step, hyper["params"])
            return out["y_hat"] * step, {"y": out["likelihoods"]["y"], "z": hyper["likelihoods"]["z"]}

    def latent(self, x: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        return self._forward_latent(self.g_a(x), level)[0]

    def forward(self, x: torch.Tensor, level: torch.Tensor):
        y_hat, likelihoods = self._forward_latent(self.g_a(x), level)
        return {"x_hat": self.g_s(y_hat), "likelihoods": likelihoods, "y_hat": y_hat}

    # -- coding -------------------------------------------------------------
    @torch.no_grad()
    def compress(self, x: torch.Tensor, quality: float):
        """x: (1, 3, H, W) in [0, 1]. Returns the three rANS strings and y_hat."""
        return self.compress_latent(self.g_a(self.pad(x)), quality)

    @torch.no_grad()
    def compress_latent(self, y: torch.Tensor, quality: float):
        """The rANS strings and y_hat of an analysed latent (a whole image's or one tile's)."""
        step, inv_step = self.step_for_quality(quality)
        hyper = self.hyper.compress(y)
        self._set_factors(step, inv_step)
        out = self.y.compress(y * inv_step, hyper["params"])
        ((z,),) = hyper["strings"]
        (anchors,), (non_anchors,) = out["strings"]
        return [anchors, non_anchors, z], out["y_hat"] * step

    @torch.no_grad()
    def decompress_latent(self, strings, height: int, width: int, quality: float, device="cpu"):
        """The transmitted latent y_hat, identical on every device."""
        step, inv_step = self.step_for_quality(quality)
        y_shape, z_shape = self.latent_shapes(height, width)
        anchors, non_anchors, z = strings
        params = self.hyper.decompress([[z]], z_shape)["params"]
        self._set_factors(step, inv_step)
        out = self.y.decompress([[anchors], [non_anchors]], (self.M, *y_shape), params.to(device))
        return out["y_hat"] * step

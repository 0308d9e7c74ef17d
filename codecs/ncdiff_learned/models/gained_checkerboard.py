"""Base codec: mean-scale hyperprior + checkerboard context + gain units."""

import math

import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck
from compressai.latent_codecs import CheckerboardLatentCodec
from compressai.latent_codecs.gain import GainHyperLatentCodec, GainHyperpriorLatentCodec

from ..rate import LEVELS, level_for_quality
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


class GainedCheckerboardHyperprior(TransformCodec):
    """Analysis / synthesis transforms (Balle et al.), a mean-scale hyperprior,
    a two-pass checkerboard context (He et al. 2021, parallel decoding) and
    gain units for continuous rate control from one set of weights.

    The entropy-parameter path (h_s, context, entropy parameters) is wrapped in
    :class:`~ncdiff_learned.exact.ExactPath` so bitstreams decode identically on
    any device.
    """

    def __init__(self, N: int = 128, M: int = 192, levels: int = LEVELS):
        super().__init__()
        self.N, self.M, self.levels = N, M, levels
        self.g_a = analysis(N, M)
        self.g_s = synthesis(N, M)
        h_a, h_s = hyper_analysis(N, M), hyper_synthesis(N, M)
        entropy_params, context = entropy_parameters(M), checkerboard_context(M)
        self.latent_codec = GainHyperpriorLatentCodec(latent_codec={
            "y": CheckerboardLatentCodec(
                latent_codec={"y": gaussian_latent_codec(quantizer="ste")},
                entropy_parameters=entropy_params,
                context_prediction=context,
            ),
            "hyper": GainHyperLatentCodec(EntropyBottleneck(N), h_a, h_s),
        })
        # Log-gains per level; the initial spread follows step ~ lambda^-1/2.
        init = torch.linspace(-1.2, 1.2, levels)[:, None]
        self.y_gain = nn.Parameter(init.repeat(1, M))
        self.y_gain_inv = nn.Parameter(-init.repeat(1, M))
        self.z_gain = nn.Parameter(torch.zeros(levels, N))
        self.z_gain_inv = nn.Parameter(torch.zeros(levels, N))

    # -- rate control -----------------------------------------------------
    def _interp(self, log_gains: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        """Gains for a batch of continuous levels, log-linear between levels."""
        lo = level.floor().clamp(0, self.levels - 2).long()
        a = (level - lo.to(level.dtype))[:, None]
        g = (1 - a) * log_gains[lo] + a * log_gains[lo + 1]
        return torch.exp(g)[:, :, None, None]

    def gains(self, level: torch.Tensor):
        return tuple(self._interp(p, level) for p in (self.y_gain, self.z_gain, self.y_gain_inv, self.z_gain_inv))

    @torch.no_grad()
    def gains_for_quality(self, quality: float, device="cpu"):
        """Gains for one quality, computed the same way on every machine.

        Python's math on the stored float32 values, rounded to a 2**-16 grid,
        so the hyper path sees identical inputs on any device.
        """
        level = level_for_quality(quality)
        lo = min(int(math.floor(level)), self.levels - 2)
        a = level - lo
        out = []
        for p in (self.y_gain, self.z_gain, self.y_gain_inv, self.z_gain_inv):
            rows = p.detach().to("cpu", torch.float64)
            vals = [
                round(math.exp((1 - a) * float(u) + a * float(v)) * 65536.0) / 65536.0
                for u, v in zip(rows[lo].tolist(), rows[lo + 1].tolist())
            ]
            out.append(torch.tensor(vals, dtype=torch.float32, device=device)[None, :, None, None])
        return tuple(out)

    def quantization_scale(self, quality: float, device="cpu") -> torch.Tensor:
        return self.gains_for_quality(quality, device)[0]

    # -- training ----------------------------------------------------------
    def latent(self, x: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        return self.latent_codec(self.g_a(x), *self.gains(level))["y_hat"]

    def forward(self, x: torch.Tensor, level: torch.Tensor):
        y = self.g_a(x)
        out = self.latent_codec(y, *self.gains(level))
        x_hat = self.g_s(out["y_hat"])
        return {"x_hat": x_hat, "likelihoods": out["likelihoods"], "y_hat": out["y_hat"]}

    # -- coding -------------------------------------------------------------
    @torch.no_grad()
    def compress(self, x: torch.Tensor, quality: float):
        """x: (1, 3, H, W) in [0, 1]. Returns the three rANS strings and y_hat."""
        return self.compress_latent(self.g_a(self.pad(x)), quality)

    @torch.no_grad()
    def compress_latent(self, y: torch.Tensor, quality: float):
        """The rANS strings and y_hat of an analysed latent (a whole image's or one tile's)."""
        y_gain, z_gain, y_gain_inv, z_gain_inv = self.gains_for_quality(quality, y.device)
        out = self.latent_codec.compress(y, y_gain, z_gain, y_gain_inv, z_gain_inv)
        (anchors,), (non_anchors,), (z,) = out["strings"]
        return [anchors, non_anchors, z], out["y_hat"]

    @torch.no_grad()
    def decompress_latent(self, strings, height: int, width: int, quality: float, device="cpu"):
        """The transmitted latent y_hat (after inverse gain), identical on every device."""
        _, _, y_gain_inv, z_gain_inv = self.gains_for_quality(quality, device)
        y_shape, z_shape = self.latent_shapes(height, width)
        anchors, non_anchors, z = strings
        out = self.latent_codec.decompress(
            [[anchors], [non_anchors], [z]],
            {"y": (self.M, *y_shape), "hyper": z_shape},
            y_gain_inv, z_gain_inv,
        )
        return out["y_hat"]

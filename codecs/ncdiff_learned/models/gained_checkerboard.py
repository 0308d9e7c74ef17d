"""Base codec: mean-scale hyperprior + checkerboard context + gain units."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.latent_codecs import (
    CheckerboardLatentCodec,
    GaussianConditionalLatentCodec,
)
from compressai.latent_codecs.gain import GainHyperLatentCodec, GainHyperpriorLatentCodec
from compressai.layers import GDN, CheckerboardMaskedConv2d
from compressai.models import CompressionModel
from compressai.models.utils import conv, deconv

from ..exact import ExactPath
from ..rate import LEVELS, level_for_quality

# Smallest input side multiple: four stride-2 stages to y, two more to z.
STRIDE = 64


class GainedCheckerboardHyperprior(CompressionModel):
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
        self.g_a = nn.Sequential(
            conv(3, N), GDN(N), conv(N, N), GDN(N), conv(N, N), GDN(N), conv(N, M)
        )
        self.g_s = nn.Sequential(
            deconv(M, N), GDN(N, inverse=True), deconv(N, N), GDN(N, inverse=True),
            deconv(N, N), GDN(N, inverse=True), deconv(N, 3),
        )
        h_a = nn.Sequential(
            conv(M, N, stride=1, kernel_size=3), nn.LeakyReLU(inplace=True),
            conv(N, N), nn.LeakyReLU(inplace=True), conv(N, N),
        )
        h_s = ExactPath(nn.Sequential(
            deconv(N, M), nn.ReLU(), deconv(M, M * 3 // 2), nn.ReLU(),
            conv(M * 3 // 2, M * 2, stride=1, kernel_size=3),
        ))
        entropy_parameters = ExactPath(nn.Sequential(
            nn.Conv2d(M * 4, M * 10 // 3, 1), nn.ReLU(),
            nn.Conv2d(M * 10 // 3, M * 8 // 3, 1), nn.ReLU(),
            nn.Conv2d(M * 8 // 3, M * 2, 1),
        ))
        context = ExactPath(CheckerboardMaskedConv2d(M, M * 2, kernel_size=5, padding=2, stride=1))
        self.latent_codec = GainHyperpriorLatentCodec(latent_codec={
            "y": CheckerboardLatentCodec(
                latent_codec={"y": GaussianConditionalLatentCodec(quantizer="ste")},
                entropy_parameters=entropy_parameters,
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

    # -- training ----------------------------------------------------------
    def forward(self, x: torch.Tensor, level: torch.Tensor):
        y = self.g_a(x)
        out = self.latent_codec(y, *self.gains(level))
        x_hat = self.g_s(out["y_hat"])
        return {"x_hat": x_hat, "likelihoods": out["likelihoods"], "y_hat": out["y_hat"]}

    # -- coding -------------------------------------------------------------
    @staticmethod
    def pad(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % STRIDE, (-w) % STRIDE
        return F.pad(x, (0, pw, 0, ph), mode="replicate") if (ph or pw) else x

    @staticmethod
    def latent_shapes(height: int, width: int):
        """y and z spatial shapes for an image size (padded to STRIDE)."""
        hp, wp = -(-height // STRIDE) * STRIDE, -(-width // STRIDE) * STRIDE
        return (hp // 16, wp // 16), (hp // 64, wp // 64)

    @torch.no_grad()
    def compress(self, x: torch.Tensor, quality: float):
        """x: (1, 3, H, W) in [0, 1]. Returns the three rANS strings and y_hat."""
        y_gain, z_gain, y_gain_inv, z_gain_inv = self.gains_for_quality(quality, x.device)
        y = self.g_a(self.pad(x))
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

    def synthesis_features(self, y_hat: torch.Tensor):
        """The synthesis transform's activations at 1/8, 1/4 and 1/2 resolution
        (after each inverse GDN), and its output x_base in [0, 1]: the
        multi-scale latent features the CDC decoder is conditioned on."""
        features, h = [], y_hat
        for layer in self.g_s:
            h = layer(h)
            if isinstance(layer, GDN):
                features.append(h)
        return features, h.clamp(0, 1)

    @torch.no_grad()
    def synthesize(self, y_hat: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Fast fidelity reconstruction x_base in [0, 1], cropped to the image size."""
        return self.g_s(y_hat).clamp_(0, 1)[..., :height, :width]

"""The base codec at inference, without importing the ``compressai`` package.

``import compressai`` costs a process about 4 s before the first pixel (its
package imports torch_geometric, torch._dynamo and scipy.stats for point
clouds and training): more than ``import torch`` itself.  Coding needs only its
compiled rANS coder, loaded here from the installed package's file, and the
inference arithmetic of the layers, re-stated below for the shipped
architecture (``models.StepScaledCheckerboardHyperprior``).  The modules carry
the same names as the training model's, so the same weights load into both,
and ``tests/test_runtime.py`` checks that both give the same bitstreams and
pixels.  Training, export and older architectures keep CompressAI's classes.
"""

import glob
import importlib.machinery
import importlib.util
import os
import sys
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from .exact import ExactPath
from .grid import STRIDE
from .rate import step_for_quality

ARCHITECTURE = "StepScaledCheckerboardHyperprior"


def rans():
    """CompressAI's compiled rANS coder (``compressai.ans``), loaded without running its package."""
    module = sys.modules.get("compressai.ans")
    if module is None:
        package = importlib.util.find_spec("compressai")
        (path,) = glob.glob(os.path.join(package.submodule_search_locations[0], "ans.*"))
        loader = importlib.machinery.ExtensionFileLoader("compressai.ans", path)
        spec = importlib.util.spec_from_file_location("compressai.ans", path, loader=loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        sys.modules["compressai.ans"] = module  # one copy, also for CompressAI if it loads later
    return module


# -- layers: CompressAI's parameter names, inference arithmetic only ---------------------------


class _LowerBound(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("bound", torch.zeros(1))

    def forward(self, x):
        return torch.max(x, self.bound)


class _NonNegative(nn.Module):
    """compressai.ops.NonNegativeParametrizer's forward."""

    def __init__(self):
        super().__init__()
        self.register_buffer("pedestal", torch.zeros(1))
        self.lower_bound = _LowerBound()

    def forward(self, x):
        return self.lower_bound(x) ** 2 - self.pedestal


class GDN(nn.Module):
    """compressai.layers.GDN's forward (inverse: IGDN)."""

    def __init__(self, channels: int, inverse: bool = False):
        super().__init__()
        self.inverse = inverse
        self.beta = nn.Parameter(torch.empty(channels))
        self.gamma = nn.Parameter(torch.empty(channels, channels))
        self.beta_reparam, self.gamma_reparam = _NonNegative(), _NonNegative()

    def forward(self, x):
        c = x.shape[1]
        norm = F.conv2d(x**2, self.gamma_reparam(self.gamma).reshape(c, c, 1, 1), self.beta_reparam(self.beta))
        return x * (torch.sqrt(norm) if self.inverse else torch.rsqrt(norm))


def _conv(cin, cout, k=5, s=2):
    return nn.Conv2d(cin, cout, k, stride=s, padding=k // 2)


def _deconv(cin, cout, k=5, s=2):
    return nn.ConvTranspose2d(cin, cout, k, stride=s, output_padding=s - 1, padding=k // 2)


class _CheckerboardConv(nn.Conv2d):
    """The context model's conv; ``mask`` (read by ExactPath) keeps the anchors' positions."""

    def __init__(self, cin, cout, k=5):
        super().__init__(cin, cout, k, padding=k // 2)
        mask = torch.ones_like(self.weight)
        mask[:, :, 0::2, 0::2] = 0
        mask[:, :, 1::2, 1::2] = 0
        self.register_buffer("mask", mask, persistent=False)


class _Holder(nn.Module):
    """A module that only names its children (the training model's wrappers, for the weights' keys)."""

    def __init__(self, **children):
        super().__init__()
        for name, child in children.items():
            setattr(self, name, child)


# -- entropy coding with the shipped tables ----------------------------------------------------


class _Tables(nn.Module):
    """An entropy model's quantised CDFs, as CompressAI's ``update()`` stored them in the weights."""

    def __init__(self):
        super().__init__()
        for name in ("_quantized_cdf", "_offset", "_cdf_length"):
            self.register_buffer(name, torch.zeros(0, dtype=torch.int32))

    def encode(self, symbols: torch.Tensor, indexes: torch.Tensor) -> bytes:
        return rans().RansEncoder().encode_with_indexes(
            symbols.reshape(-1).int().tolist(), indexes.reshape(-1).int().tolist(), self._quantized_cdf.tolist(),
            self._cdf_length.reshape(-1).int().tolist(), self._offset.reshape(-1).int().tolist())

    def decode(self, string: bytes, indexes: torch.Tensor) -> torch.Tensor:
        values = rans().RansDecoder().decode_with_indexes(
            string, indexes.reshape(-1).int().tolist(), self._quantized_cdf.tolist(),
            self._cdf_length.reshape(-1).int().tolist(), self._offset.reshape(-1).int().tolist())
        return torch.tensor(values, dtype=torch.int32).reshape(indexes.shape)


class Bottleneck(_Tables):
    """EntropyBottleneck's coding: one table per channel, symbols centred on the channel's median."""

    def __init__(self, channels: int):
        super().__init__()
        self.quantiles = nn.Parameter(torch.zeros(channels, 1, 3))

    def _indexes(self, shape):
        return torch.arange(shape[1], dtype=torch.int32).view(1, -1, 1, 1).expand(shape).contiguous()

    def compress(self, z: torch.Tensor) -> bytes:
        medians = self.quantiles[:, :, 1:2].reshape(1, -1, 1, 1)
        return self.encode(torch.round(z - medians).int(), self._indexes(z.shape))

    def decompress(self, string: bytes, shape) -> torch.Tensor:
        medians = self.quantiles[:, :, 1:2].reshape(1, -1, 1, 1)
        return self.decode(string, self._indexes((1, self.quantiles.shape[0], *shape))).type_as(medians) + medians


class Gaussian(_Tables):
    """GaussianConditional's coding: the table is chosen by the predicted scale, symbols centred on the mean."""

    def __init__(self):
        super().__init__()
        self.register_buffer("scale_table", torch.zeros(0))
        self.lower_bound_scale = _LowerBound()

    def indexes(self, scales: torch.Tensor) -> torch.Tensor:
        # As CompressAI's build_indexes: how many of the table's scales (but the last) are below each scale.
        table = self.scale_table[:-1].to(scales.dtype).contiguous()
        return torch.bucketize(self.lower_bound_scale(scales), table).int()

    def compress(self, y, scales, means):
        indexes = self.indexes(scales)
        string = self.encode(torch.round(y - means).int(), indexes)
        return string, self.decode(string, indexes).type_as(means) + means

    def decompress(self, string, scales, means):
        return self.decode(string, self.indexes(scales)).type_as(means) + means


# -- the model -----------------------------------------------------------------------------------


def _split(y: torch.Tensor) -> torch.Tensor:
    """(2, N, C, H, W/2): the checkerboard's anchors (even parity), then the non-anchors."""
    out = y.new_zeros((2, *y.shape[:-1], y.shape[-1] // 2))
    out[0, ..., 0::2, :], out[0, ..., 1::2, :] = y[..., 0::2, 0::2], y[..., 1::2, 1::2]
    out[1, ..., 0::2, :], out[1, ..., 1::2, :] = y[..., 0::2, 1::2], y[..., 1::2, 0::2]
    return out


def _join(halves: torch.Tensor) -> torch.Tensor:
    y = halves.new_zeros((*halves.shape[1:-1], halves.shape[-1] * 2))
    y[..., 0::2, 0::2], y[..., 1::2, 1::2] = halves[0, ..., 0::2, :], halves[0, ..., 1::2, :]
    y[..., 0::2, 1::2], y[..., 1::2, 0::2] = halves[1, ..., 0::2, :], halves[1, ..., 1::2, :]
    return y


class SynthesisSide:
    """Padding, latent shapes and the synthesis side, shared by this runtime and the training models."""

    #: The class of the synthesis transform's normalisation layers (where ``synthesis_features`` reads).
    gdn_type = GDN

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

    def synthesis_features(self, y_hat: torch.Tensor):
        """The synthesis transform's activations at 1/8, 1/4 and 1/2 resolution
        (after each inverse GDN), and its output x_base in [0, 1]: the
        multi-scale latent features the CDC decoder is conditioned on."""
        features, h = [], y_hat
        for layer in self.g_s:
            h = layer(h)
            if isinstance(layer, self.gdn_type):
                features.append(h)
        return features, h.clamp(0, 1)

    @torch.no_grad()
    def synthesize(self, y_hat: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Fast fidelity reconstruction x_base in [0, 1], cropped to the image size."""
        return self.g_s(y_hat).clamp_(0, 1)[..., :height, :width]


class BaseCodec(SynthesisSide, nn.Module):
    """Inference of ``StepScaledCheckerboardHyperprior``: the methods the learned codec calls."""

    def __init__(self, N: int = 128, M: int = 192, levels: int = 9):
        super().__init__()
        self.N, self.M, self.levels = N, M, levels
        self.g_a = nn.Sequential(_conv(3, N), GDN(N), _conv(N, N), GDN(N), _conv(N, N), GDN(N), _conv(N, M))
        self.g_s = nn.Sequential(_deconv(M, N), GDN(N, True), _deconv(N, N), GDN(N, True), _deconv(N, N), GDN(N, True),
                                 _deconv(N, 3))
        self.hyper = _Holder(
            h_a=nn.Sequential(_conv(M, N, 3, 1), nn.LeakyReLU(inplace=True), _conv(N, N), nn.LeakyReLU(inplace=True),
                              _conv(N, N)),
            h_s=ExactPath(nn.Sequential(_deconv(N, M), nn.ReLU(), _deconv(M, M * 3 // 2), nn.ReLU(),
                                        _conv(M * 3 // 2, M * 2, 3, 1))),
            entropy_bottleneck=Bottleneck(N))
        self.y = _Holder(
            entropy_parameters=_Holder(module=ExactPath(nn.Sequential(
                nn.Conv2d(M * 4, M * 10 // 3, 1), nn.ReLU(), nn.Conv2d(M * 10 // 3, M * 8 // 3, 1), nn.ReLU(),
                nn.Conv2d(M * 8 // 3, M * 2, 1)))),
            context_prediction=_Holder(module=ExactPath(_CheckerboardConv(M, M * 2))),
            y=_Holder(gaussian_conditional=Gaussian()))
        self.log_step = nn.Parameter(torch.zeros(levels))

    def step_for_quality(self, quality: float):
        return step_for_quality(self.log_step.detach().to("cpu", torch.float64).tolist(), quality)

    def quantization_scale(self, quality: float, device="cpu"):
        return torch.tensor(self.step_for_quality(quality)[1], device=device)

    # -- coding ------------------------------------------------------------------------------
    def _params(self, ctx: torch.Tensor, side: torch.Tensor, inv_step: float):
        """(scales, means) of y / step from the context and the hyperprior's parameters."""
        return (self.y.entropy_parameters.module(torch.cat((ctx, side), dim=1)) * inv_step).chunk(2, 1)

    def _context(self, halves: torch.Tensor, step: float) -> torch.Tensor:
        return _split(self.y.context_prediction.module(_join(halves) * step))[1]

    @torch.no_grad()
    def compress(self, x, quality: float):
        return self.compress_latent(self.g_a(self.pad(x)), quality)

    @torch.no_grad()
    def compress_latent(self, y, quality: float):
        """[anchors, non-anchors, z] rANS strings and y_hat, as ``StepScaledCheckerboardHyperprior``'s."""
        step, inv_step = self.step_for_quality(quality)
        z = self.hyper.h_a(y)
        z_string = self.hyper.entropy_bottleneck.compress(z)
        side = _split(self.hyper.h_s(self.hyper.entropy_bottleneck.decompress(z_string, z.shape[-2:])))
        target = _split(y * inv_step)
        halves = torch.zeros_like(target)
        strings: List[bytes] = []
        for i in range(2):
            ctx = torch.zeros_like(side[i]) if i == 0 else self._context(halves, step)
            scales, means = self._params(ctx, side[i], inv_step)
            string, halves[i] = self.y.y.gaussian_conditional.compress(target[i], scales, means)
            strings.append(string)
        return [strings[0], strings[1], z_string], _join(halves) * step

    @torch.no_grad()
    def decompress_latent(self, strings, height: int, width: int, quality: float, device="cpu"):
        step, inv_step = self.step_for_quality(quality)
        y_shape, z_shape = self.latent_shapes(height, width)
        anchors, non_anchors, z_string = strings
        side = _split(self.hyper.h_s(self.hyper.entropy_bottleneck.decompress(z_string, z_shape)).to(device))
        halves = side.new_zeros((2, 1, self.M, y_shape[0], y_shape[1] // 2))
        for i, string in enumerate((anchors, non_anchors)):
            ctx = torch.zeros_like(side[i]) if i == 0 else self._context(halves, step)
            scales, means = self._params(ctx, side[i], inv_step)
            halves[i] = self.y.y.gaussian_conditional.decompress(string, scales, means)
        return _join(halves) * step


def build(metadata: dict, state: dict) -> BaseCodec:
    """The inference model of weights of the shipped architecture, in eval mode."""
    model = BaseCodec(N=int(metadata["N"]), M=int(metadata["M"]), levels=int(metadata["levels"]))
    for name, buffer in list(model.named_buffers()):
        if buffer.numel() == 0 and name in state:  # the coding tables' sizes come with the weights
            owner, _, attr = name.rpartition(".")
            model.get_submodule(owner).register_buffer(attr, state[name].clone())
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing:
        raise KeyError(f"weights lack {missing[:5]}")
    # Unexpected keys are what only training uses (the bottleneck's density, its target quantiles...).
    model.eval()
    return model

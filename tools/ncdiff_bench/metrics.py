"""Image quality metrics on uint8 RGB arrays of shape (H, W, 3): original first, decoded second.

torch, pytorch_msssim and piq are imported inside the functions that need them so that
importing the bench (e.g. for ``ncd --help``) stays cheap.

Conventions:
- ``psnr`` of identical images is ``math.inf`` (not a capped number), so averages and
  BD-rate can recognise a lossless point instead of mistaking it for a very good one.
- A metric that is undefined for the image size returns ``math.nan``: ``ms_ssim`` needs a
  shorter side of at least 161 px (five scales of an 11-tap window), ``vif`` at least 41 px.
  We return NaN rather than silently falling back to single-scale SSIM, so that a curve never
  mixes two different metrics under one name.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Iterable

import numpy as np

from ncdiff_plugin.extras import require

# Smallest shorter side each size-limited metric accepts (values from the libraries' checks).
MS_SSIM_MIN_SIDE = 161
VIF_MIN_SIDE = 41

# ITU-R BT.601 luma weights, the ones JPEG and most image tools use for "Y".
_LUMA = np.array([0.299, 0.587, 0.114])


def _check_pair(orig: np.ndarray, dec: np.ndarray) -> None:
    if orig.shape != dec.shape:
        raise ValueError(f"image shapes differ: {orig.shape} vs {dec.shape}")
    if orig.ndim != 3 or orig.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) RGB arrays, got shape {orig.shape}")


def psnr(orig: np.ndarray, dec: np.ndarray) -> float:
    """PSNR in dB over all three RGB channels with an 8-bit peak of 255; inf if identical."""
    _check_pair(orig, dec)
    mse = np.mean((orig.astype(np.float64) - dec.astype(np.float64)) ** 2)
    if mse == 0:
        return math.inf
    return float(10.0 * math.log10(255.0**2 / mse))


def _to_tensor(img: np.ndarray, scale: float):
    """(H, W, 3) uint8 -> (1, 3, H, W) float32 tensor, values divided by ``scale``."""
    import torch

    # np.array copies: arrays from PIL images are read-only, which torch.from_numpy warns about.
    return torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].float() / scale


def ms_ssim(orig: np.ndarray, dec: np.ndarray) -> float:
    """MS-SSIM (pytorch_msssim, data_range=255); NaN below ``MS_SSIM_MIN_SIDE`` px."""
    _check_pair(orig, dec)
    if min(orig.shape[:2]) < MS_SSIM_MIN_SIDE:
        return math.nan
    import torch

    _ms_ssim = require("pytorch_msssim", "the ms_ssim metric").ms_ssim
    with torch.no_grad():
        return float(_ms_ssim(_to_tensor(orig, 1.0), _to_tensor(dec, 1.0), data_range=255))


def _piq_score(name: str, orig: np.ndarray, dec: np.ndarray) -> float:
    """Run a piq full-reference metric on float tensors in [0, 1]."""
    _check_pair(orig, dec)
    import torch

    piq = require("piq", f"the {name} metric")

    with torch.no_grad():
        score = getattr(piq, name)(_to_tensor(dec, 255.0), _to_tensor(orig, 255.0), data_range=1.0)
    return float(score)


def haarpsi(orig: np.ndarray, dec: np.ndarray) -> float:
    """HaarPSI (piq): 1 = identical, higher is better."""
    return _piq_score("haarpsi", orig, dec)


def vif(orig: np.ndarray, dec: np.ndarray) -> float:
    """Pixel-domain VIF (piq.vif_p): 1 = identical, higher is better; NaN below 41 px."""
    if min(orig.shape[:2]) < VIF_MIN_SIDE:
        _check_pair(orig, dec)
        return math.nan
    return _piq_score("vif_p", orig, dec)


def gmsd(orig: np.ndarray, dec: np.ndarray) -> float:
    """Gradient magnitude similarity deviation (piq): 0 = identical, lower is better."""
    return _piq_score("gmsd", orig, dec)


def _high_frequency_energy(img: np.ndarray, cutoff: float) -> float:
    """Spectral energy of the luma above ``cutoff`` x Nyquist (radially)."""
    luma = img.astype(np.float64) @ _LUMA
    luma -= luma.mean()
    # A Hann window hides the wrap-around edge of the periodic FFT: otherwise that edge adds
    # the same broadband energy to both images and pulls every ratio towards 1.
    h, w = luma.shape
    luma *= np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(luma)) ** 2
    # fftfreq is in cycles per pixel, Nyquist = 0.5; radius 1.0 means "at Nyquist" on an axis.
    fy = np.fft.fftfreq(h)[:, None] / 0.5
    fx = np.fft.fftfreq(w)[None, :] / 0.5
    return float(power[np.hypot(fx, fy) > cutoff].sum())


def hf_energy_ratio(orig: np.ndarray, dec: np.ndarray, cutoff: float = 0.25) -> float:
    """High-frequency luma energy of ``dec`` over that of ``orig``.

    Energy counts spectral power whose radial frequency is above ``cutoff`` (a fraction of
    Nyquist). 1.0 = as much fine detail as the original, < 1 blurrier, > 1 added
    noise/ringing/hallucinated texture. If the original has no such energy at all, the
    ratio is 1.0 when the decoded image has none either, else inf.
    """
    _check_pair(orig, dec)
    e_orig = _high_frequency_energy(orig, cutoff)
    e_dec = _high_frequency_energy(dec, cutoff)
    if e_orig == 0:
        return 1.0 if e_dec == 0 else math.inf
    return e_dec / e_orig


METRICS: Dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "psnr": psnr,
    "ms_ssim": ms_ssim,
    "haarpsi": haarpsi,
    "vif": vif,
    "gmsd": gmsd,
    "hf_energy_ratio": hf_energy_ratio,
}


def check_names(names: Iterable[str]) -> None:
    """Raise ValueError naming any unknown metric, before a long run starts."""
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")


def compute(orig: np.ndarray, dec: np.ndarray, names: Iterable[str] = ("psnr", "ms_ssim")) -> Dict[str, float]:
    """Every metric in ``names`` for one image pair, as {name: value}."""
    names = list(names)
    check_names(names)
    return {name: METRICS[name](orig, dec) for name in names}

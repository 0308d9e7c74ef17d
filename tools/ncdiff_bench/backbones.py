"""Metrics that need pretrained networks, LPIPS and FID, from weights files the user gives.

Nothing is downloaded (the bench runs offline): ``ncd bench --lpips-weights FILE`` and
``--fid-weights FILE`` name safetensors files, and without them these metrics are simply not
computed (the report says so).

- LPIPS (Zhang et al. 2018, VGG variant, piq's ``ContentLoss`` with LPIPS's layers and
  normalisation): the file holds torchvision's VGG16 ``features.*`` tensors and the five
  linear layers as ``lin.0`` .. ``lin.4`` (shape (1, C, 1, 1)).
- FID (Heusel et al. 2017) on non-overlapping 256x256 patches, as CDC and HiFiC report it, with
  piq's FID Inception network: the file holds its state dict (the keys of torchvision's
  ``inception_v3`` with 1008 classes, as pytorch-fid's ``pt_inception-2015-12-05`` weights).
"""

from __future__ import annotations

import warnings
from typing import Callable, List
from unittest import mock

import numpy as np

from ncdiff_plugin.extras import require

LPIPS_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
FID_PATCH = 256


def _tensors(path: str, what: str) -> dict:
    from safetensors.torch import load_file

    try:
        return load_file(path)
    except Exception as exc:  # missing file, not safetensors
        raise ValueError(f"cannot read the {what} weights {path!r}: {exc}") from None


def _load_strict(module, tensors: dict, path: str, what: str) -> None:
    try:
        module.load_state_dict(tensors)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] + " " + " ".join(str(exc).splitlines()[1:2])
        raise ValueError(f"{path!r} is not a {what} weights file: {first.strip()}") from None


def _to_tensor(img: np.ndarray):
    import torch

    return torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].float() / 255.0


def load_lpips(path: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """An ``lpips(orig, dec) -> float`` metric (0 = identical, lower is better)."""
    piq = require("piq", "the lpips metric")
    import torch
    import torchvision
    from piq.perceptual import VGG16_LAYERS

    tensors = _tensors(path, "LPIPS")
    lins = [tensors.pop(f"lin.{i}", None) for i in range(len(LPIPS_LAYERS))]
    if any(w is None for w in lins):
        raise ValueError(f"{path!r} is not an LPIPS weights file: it lacks lin.0 .. lin.4")
    features = torchvision.models.vgg16(weights=None).features
    _load_strict(features, {k[len("features."):]: v for k, v in tensors.items() if k.startswith("features.")},
                 path, "VGG16")
    loss = piq.ContentLoss(features, layers=[VGG16_LAYERS[name] for name in LPIPS_LAYERS],
                           weights=[w.float() for w in lins], normalize_features=True, reduction="none").eval()

    def lpips(orig: np.ndarray, dec: np.ndarray) -> float:
        with torch.no_grad():
            return float(loss(_to_tensor(dec), _to_tensor(orig)))

    return lpips


def _patches(img: np.ndarray) -> List[np.ndarray]:
    """Non-overlapping FID_PATCH squares; a smaller image is one patch."""
    h, w = img.shape[:2]
    if min(h, w) < FID_PATCH:
        return [img]
    return [img[y:y + FID_PATCH, x:x + FID_PATCH] for y in range(0, h - FID_PATCH + 1, FID_PATCH)
            for x in range(0, w - FID_PATCH + 1, FID_PATCH)]


def load_fid_features(path: str) -> Callable[[np.ndarray], np.ndarray]:
    """``features(img) -> (patches, 2048)`` pool features of piq's FID Inception network."""
    import torch
    from piq.feature_extractors import fid_inception

    tensors = _tensors(path, "FID Inception")
    # piq builds the FID variant of Inception and then downloads its weights: hand it ours instead.
    with mock.patch.object(fid_inception, "load_state_dict_from_url", lambda *a, **k: tensors), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # piq passes torchvision's deprecated pretrained=False
        try:
            net = fid_inception.InceptionV3().eval()
        except RuntimeError as exc:
            raise ValueError(f"{path!r} is not an FID Inception weights file: {str(exc).splitlines()[0]}") from None

    def features(img: np.ndarray) -> np.ndarray:
        batch = torch.cat([_to_tensor(p) for p in _patches(img)])
        with torch.no_grad():
            return net(batch)[0].flatten(1).double().numpy()

    return features


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two sets of feature rows.

    Tr(sqrt(S_a S_b)) is the sum of the square roots of the eigenvalues of S_a S_b (real and
    non-negative for covariance matrices): one eigendecomposition, where piq's 100 Newton-Schulz
    iterations on 2048x2048 matrices take about half a minute on a 2-core CPU.
    """
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    mu = a.mean(0) - b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eig = np.linalg.eigvals(cov_a @ cov_b)
    tr_sqrt = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(mu @ mu + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_sqrt)


BACKBONE_METRICS = ("lpips", "fid")


class BackboneMetrics:
    """LPIPS per decoded image, and FID per (codec, variant, quality) over all images' patches.

    FID is a distance between sets: ``finish`` writes each set's value into every row of that
    set, so that averaging the rows of a curve point returns it unchanged.
    """

    def __init__(self, lpips=None, fid_features=None):
        self.lpips, self.fid_features = lpips, fid_features
        self._originals: List[np.ndarray] = []
        self._decoded = {}

    @classmethod
    def for_metrics(cls, names, lpips_weights=None, fid_weights=None):
        """The metrics asked for in ``names``, or None when neither is; a clear error when one
        is asked for without its weights file."""
        if "lpips" in names and not lpips_weights:
            raise ValueError("the lpips metric needs a backbone weights file (--lpips-weights): nothing is downloaded")
        if "fid" in names and not fid_weights:
            raise ValueError("the fid metric needs an Inception weights file (--fid-weights): nothing is downloaded")
        if "lpips" not in names and "fid" not in names:
            return None
        return cls(load_lpips(lpips_weights) if "lpips" in names else None,
                   load_fid_features(fid_weights) if "fid" in names else None)

    def add_original(self, original: np.ndarray) -> None:
        if self.fid_features is not None:
            self._originals.append(self.fid_features(original))

    def measure(self, original: np.ndarray, decoded: np.ndarray, group) -> dict:
        if self.fid_features is not None:
            self._decoded.setdefault(group, []).append(self.fid_features(decoded))
        return {} if self.lpips is None else {"lpips": self.lpips(original, decoded)}

    def finish(self, rows: List[dict]) -> None:
        if self.fid_features is None:
            return
        reference = np.concatenate(self._originals)
        fid = {group: frechet_distance(np.concatenate(feats), reference) for group, feats in self._decoded.items()}
        for row in rows:
            row["fid"] = fid[(row["codec"], row["variant"], row["quality"])]

"""The learning-speed probe: rate and PSNR on test images at a few qualities,
estimated by one forward pass (hard quantisation, likelihoods as the rate).

Cheap enough to run every minute of training: the entropy-parameter path
runs in float rather than in exact fixed point, and no bitstream is written.
``ncd bench`` gives the exact numbers of exported weights.
"""

import os

import numpy as np
import torch
from PIL import Image

from ..exact import ExactPath
from ..rate import level_for_quality
from .data import IMAGE_SUFFIXES

DEFAULT_QUALITIES = (5, 30, 60, 95)


class RateProbe:
    """``probe(model) -> {"q5": [bpp, psnr], ...}`` on the first ``count`` images of ``folder``."""

    def __init__(self, folder: str, count: int = 6, qualities=DEFAULT_QUALITIES, device="cpu"):
        paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.lower().endswith(IMAGE_SUFFIXES))
        paths = paths[:count]
        if not paths:
            raise FileNotFoundError(f"no probe images in {folder}")
        self.images = []
        for path in paths:
            with Image.open(path) as im:
                arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
            self.images.append(torch.from_numpy(arr).permute(2, 0, 1)[None].to(device))
        self.qualities = tuple(qualities)

    @torch.no_grad()
    def __call__(self, model) -> dict:
        was_training = model.training
        model.eval()
        for m in model.modules():
            if isinstance(m, ExactPath):
                m.train()  # float path: within 2**-16 of the exact one, and fast
        try:
            result = {}
            for q in self.qualities:
                bits = pixels = 0.0
                mse = []
                for x in self.images:
                    h, w = x.shape[-2:]
                    level = torch.full((1,), level_for_quality(q), device=x.device)
                    out = model(model.pad(x), level)
                    bits += sum(-torch.log2(l.double()).sum().item() for l in out["likelihoods"].values())
                    pixels += h * w
                    x_hat = out["x_hat"][..., :h, :w].clamp(0, 1).mul(255).round().div(255)
                    mse.append((x_hat - x).pow(2).mean().item())
                psnr = float(np.mean([-10 * np.log10(max(m, 1e-10)) for m in mse]))
                result[f"q{q}"] = [round(bits / pixels, 4), round(psnr, 3)]
            return result
        finally:
            model.train(was_training)


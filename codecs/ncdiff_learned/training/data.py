"""Random crops from a folder of training photos, held in memory."""

import os
import random

import numpy as np
import torch
from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def list_images(root: str):
    paths = []
    for folder, _, files in os.walk(root):
        paths += [os.path.join(folder, f) for f in files if f.lower().endswith(IMAGE_SUFFIXES)]
    paths.sort()
    if not paths:
        raise FileNotFoundError(f"no training images under {root}")
    if any("kodak" in p.lower().split(os.sep) for p in paths):
        raise ValueError("refusing to train on Kodak: it is the test set")
    return paths


class CropSampler:
    """Loads every image once (optionally downscaled, which also removes JPEG
    artefacts of the sources, never below ``crop`` on the short side) onto ``device``, then serves random flipped crops
    there as a float batch of shape (B, 3, crop, crop) in [0, 1]: on a GPU the
    cropping costs the host nothing.

    ``noise``: standard deviation (in 0..255 units) of Gaussian noise added to
    each crop, so downscaled photos are not unnaturally clean.
    """

    def __init__(self, root: str, crop: int, scale: float = 0.75, seed: int = 0, progress=None,
                 noise: float = 0.0, device="cpu"):
        self.crop = crop
        self.noise = noise
        self.rng = random.Random(seed)
        self.noise_gen = torch.Generator(device).manual_seed(seed)
        self.images = []
        paths = list_images(root)
        for path in progress(paths, desc="loading images") if progress else paths:
            with Image.open(path) as im:
                im = im.convert("RGB")
                # Downscale by ``scale``, but no further than the crop: a photo
                # a little short of it (BSDS500's 321 rows at 0.75) still trains.
                factor = max(scale, min(1.0, crop / min(im.size)))
                if factor != 1.0:
                    size = (round(im.width * factor), round(im.height * factor))
                    im = im.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)
                if min(im.size) >= crop:
                    self.images.append(torch.from_numpy(np.array(im)).permute(2, 0, 1).to(device))
        if not self.images:
            raise ValueError(f"no image under {root} is at least {crop} pixels on both sides")

    def batch(self, size: int):
        patches = []
        for _ in range(size):
            img = self.images[self.rng.randrange(len(self.images))]
            top = self.rng.randrange(img.shape[1] - self.crop + 1)
            left = self.rng.randrange(img.shape[2] - self.crop + 1)
            patch = img[:, top : top + self.crop, left : left + self.crop]
            if self.rng.random() < 0.5:
                patch = patch.flip(-1)
            patches.append(patch)
        x = torch.stack(patches).float()
        if self.noise:
            noise = torch.randn(x.shape, generator=self.noise_gen, device=x.device)
            x = (x + self.noise * noise).round_().clamp_(0, 255)
        return x.div_(255.0)

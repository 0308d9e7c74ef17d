import os

import numpy as np
import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")


@pytest.fixture(scope="session")
def sample_rgb() -> Image.Image:
    """A real photo, small: a 96x64 crop of a sample image."""
    with Image.open(os.path.join(SAMPLES, "kodim23-half.png")) as im:
        return im.convert("RGB").crop((100, 60, 196, 124))


@pytest.fixture(scope="session")
def coloured() -> Image.Image:
    """Left third pure red, middle pure green, right pure blue (channel-order checks)."""
    arr = np.zeros((32, 48, 3), np.uint8)
    arr[:, :16, 0] = 255
    arr[:, 16:32, 1] = 255
    arr[:, 32:, 2] = 255
    return Image.fromarray(arr, "RGB")


def psnr(a, b) -> float:
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    mse = np.mean((x - y) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)

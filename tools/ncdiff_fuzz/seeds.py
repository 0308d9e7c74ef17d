"""Valid seed files: JPEG and learned codecs, 1 and 3 frames, L / LA / RGB / RGBA, learned in tiles."""

import warnings
from typing import Dict, List, Sequence, Tuple

SEED_SIZE = (48, 32)
#: The tiled seed: six tiles of at most 64 x 64 (the smallest the learned codec takes).
TILED_SIZE, TILE = (160, 96), 64


def seed_image(mode: str, variant: int = 0, size=SEED_SIZE):
    """A deterministic test picture (gradients, edges and a disc), different per variant."""
    import numpy as np
    from PIL import Image

    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = (x * 255 / max(w - 1, 1) + 40 * variant) % 256
    g = (y * 255 / max(h - 1, 1) + 80 * variant) % 256
    b = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2, 230 - 60 * variant, 30 + 20 * variant)
    b = np.where(((x // 8 + y // 8 + variant) % 2) == 0, b, b / 2)
    rgb = Image.fromarray(np.dstack([r, g, b]).astype(np.uint8), "RGB")
    if mode == "RGB":
        return rgb
    if mode == "L":
        return rgb.convert("L")
    out = rgb.convert(mode[:-1])
    alpha = ((x + y * 3 + 50 * variant) % 256).astype(np.uint8)
    out.putalpha(Image.fromarray(alpha, "L"))
    return out


def seed_specs(codecs: Sequence[str]) -> List[Tuple[str, str, str, int, int]]:
    """(name, codec, mode, frames, tile) of the seed files (tile 0: coded whole)."""
    specs = []
    for codec in codecs:
        combos = [("RGB", 1), ("L", 1), ("RGBA", 1), ("RGB", 3)]
        if codec == "jpeg":
            combos += [("L", 3), ("RGBA", 3), ("LA", 1)]
        specs += [(f"{codec}-{mode}-{n}f", codec, mode, n, 0) for mode, n in combos]
        if codec == "learned":
            specs.append(("learned-RGB-1f-tiled", codec, "RGB", 1, TILE))
    return specs


def build_seed(codec: str, mode: str, frames: int, tile: int = 0, size=SEED_SIZE) -> bytes:
    from fractions import Fraction

    from ncdiff_plugin import api

    meta = {}
    if tile:
        meta["tile"], size = tile, TILED_SIZE
    images = [seed_image(mode, v, size) for v in range(frames)]
    if frames == 1 and mode == "RGB":
        from PIL import Image

        exif = Image.Exif()
        exif[0x010F] = "ncdiff-fuzz"
        exif[0x0112] = 1
        meta.update(exif=exif, icc_profile=b"\x00\x00\x01\x00fuzz-icc", xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if frames == 1:
            return api.encode(images[0], quality=60, codec=codec, **meta)
        return api.encode_frames(images, quality=60, codec=codec, durations=[40, 50, 60], fps=Fraction(25), **meta)


def build_seeds(codecs: Sequence[str] = ("jpeg", "learned"), size=SEED_SIZE) -> Dict[str, bytes]:
    return {name: build_seed(codec, mode, n, tile, size) for name, codec, mode, n, tile in seed_specs(codecs)}

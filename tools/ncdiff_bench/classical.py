"""Pillow's classical codecs (JPEG, WebP, AVIF) as bench entries.

Each uses Pillow's defaults except where the project's targets name a setting: AVIF runs at
``speed=4`` ("Pillow AVIF (speed 4)" in the brief). The default quality grids were measured
on Kodak photos to span roughly 0.1-2 bpp (JPEG cannot go much below ~0.2 bpp on Kodak:
its quality 1 still costs ~0.18 bpp).
"""

from __future__ import annotations

import io
from functools import partial
from typing import Dict, Tuple

from PIL import Image, features

from .entry import BenchEntry, DecodeVariant

# name -> (Pillow format, Pillow feature to check, extra save options, default qualities)
_FORMATS: Dict[str, Tuple[str, str, dict, Tuple[int, ...]]] = {
    # ~0.23 .. 2.3 bpp on Kodak
    "jpeg": ("JPEG", "jpg", {}, (5, 10, 20, 30, 40, 50, 60, 70, 80, 90)),
    # ~0.11 .. 1.9 bpp
    "webp": ("WEBP", "webp", {}, (0, 5, 10, 20, 30, 50, 70, 80, 85, 90)),
    # ~0.09 .. 1.85 bpp; ~1-2.5 s per Kodak image on one busy CPU core
    "avif": ("AVIF", "avif", {"speed": 4}, (10, 20, 30, 40, 50, 60, 70, 80, 85)),
}

CLASSICAL_CODECS = tuple(_FORMATS)


def default_qualities(name: str) -> Tuple[int, ...]:
    return _FORMATS[name][3]


def encode(img: Image.Image, quality: int, *, name: str) -> bytes:
    """Encode an RGB image with Pillow's codec ``name`` at ``quality`` (0-100)."""
    fmt, _, options, _ = _FORMATS[name]
    buf = io.BytesIO()
    img.convert("RGB").save(buf, fmt, quality=int(quality), **options)
    return buf.getvalue()


def decode(data: bytes) -> Image.Image:
    """Decode bytes of any format Pillow reads into an RGB image."""
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB")


def classical_entry(name: str) -> BenchEntry:
    """The bench entry for ``"jpeg"``, ``"webp"`` or ``"avif"``.

    Raises ValueError for an unknown name and RuntimeError when this Pillow build lacks the
    codec (AVIF needs Pillow >= 11.2 built with libavif).
    """
    if name not in _FORMATS:
        raise ValueError(f"unknown classical codec {name!r}; known: {', '.join(_FORMATS)}")
    fmt, feature, _, qualities = _FORMATS[name]
    if not features.check(feature):
        raise RuntimeError(f"this Pillow ({Image.__version__}) cannot write {fmt}")
    variant = DecodeVariant(decoder="pillow", steps=None, device="cpu", decode=decode)
    return BenchEntry(name=name, encode=partial(encode, name=name), variants=(variant,), qualities=qualities)

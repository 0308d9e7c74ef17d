"""The test images: which files a data folder holds, and how they are loaded."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple, Union

from PIL import Image, ImageOps

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

Size = Union[int, Tuple[int, int]]


def list_images(data_dir: Union[str, Path], limit: Optional[int] = None) -> List[Path]:
    """PNG/JPEG files directly in ``data_dir``, sorted by name; the first ``limit`` if given."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data folder not found: {data_dir}")
    paths = sorted(p for p in data_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        paths = paths[:limit]
    if not paths:
        raise FileNotFoundError(f"no .png/.jpg images in {data_dir}")
    return paths


def center_crop(img: Image.Image, size: Size) -> Image.Image:
    """The central ``size`` (int for a square, or (width, height)) of an image; a side
    larger than the image keeps the image's side."""
    w, h = (size, size) if isinstance(size, int) else size
    w, h = min(w, img.width), min(h, img.height)
    left, top = (img.width - w) // 2, (img.height - h) // 2
    return img.crop((left, top, left + w, top + h))


def load_image(path: Union[str, Path], crop: Optional[Size] = None) -> Image.Image:
    """An RGB image, upright per its EXIF orientation, optionally center-cropped."""
    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img).convert("RGB")
    return center_crop(img, crop) if crop else img

"""Published RD curves ("anchors") in CompressAI's results format.

A file looks like ``{"name": ..., "results": {"bpp": [...], "psnr-rgb": [...],
"ms-ssim-rgb": [...]}}``. Older CompressAI files say ``"psnr"`` / ``"ms-ssim"`` instead;
both spellings are read. Files that cannot be read, or lack matching bpp and PSNR lists,
are skipped with a warning, so one bad file does not stop a benchmark.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import List, Optional, Sequence, Union

from .curve import Curve

_PSNR_KEYS = ("psnr-rgb", "psnr")
_MS_SSIM_KEYS = ("ms-ssim-rgb", "ms-ssim")


def _numbers(values) -> Optional[List[float]]:
    if not isinstance(values, list) or not values:
        return None
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return None


def _first(results: dict, keys: Sequence[str]) -> Optional[List[float]]:
    for key in keys:
        if key in results:
            return _numbers(results[key])
    return None


def read_anchor(path: Union[str, Path]) -> Curve:
    """One anchor file as a Curve sorted by rate; ValueError if it is not a usable RD curve."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, dict):
        raise ValueError(f"{path}: no 'results' object")
    bpp, psnr = _numbers(results.get("bpp")), _first(results, _PSNR_KEYS)
    if bpp is None or psnr is None or len(bpp) != len(psnr):
        raise ValueError(f"{path}: needs equally long 'bpp' and 'psnr-rgb' lists")
    ms_ssim = _first(results, _MS_SSIM_KEYS)
    if ms_ssim is not None and len(ms_ssim) != len(bpp):
        ms_ssim = None  # keep the PSNR curve, which is what BD-rate needs
    order = sorted(range(len(bpp)), key=lambda i: bpp[i])
    name = doc.get("name")
    return Curve(
        label=str(name) if name else path.stem,
        bpp=[bpp[i] for i in order],
        psnr=[psnr[i] for i in order],
        ms_ssim=None if ms_ssim is None else [ms_ssim[i] for i in order],
        kind="anchor",
        source=str(path),
    )


def load_anchors(anchors_dir: Union[str, Path]) -> List[Curve]:
    """Every readable ``*.json`` anchor in a folder, sorted by file name."""
    anchors_dir = Path(anchors_dir)
    if not anchors_dir.is_dir():
        raise FileNotFoundError(f"anchors folder not found: {anchors_dir}")
    curves = []
    for path in sorted(anchors_dir.glob("*.json")):
        try:
            curve = read_anchor(path)
        except ValueError as exc:
            warnings.warn(f"skipping anchor: {exc}", stacklevel=2)
            continue
        if not all(math.isfinite(v) for v in curve.bpp + curve.psnr):
            warnings.warn(f"skipping anchor {path}: non-finite values", stacklevel=2)
            continue
        curves.append(curve)
    return curves


def guess_anchors_dir(data_dir: Union[str, Path]) -> Optional[Path]:
    """``<root>/anchors/<name>`` for a data folder ``<root>/data/<name>``, if it exists.

    The shared layout keeps ``data/kodak`` next to ``anchors/kodak``.
    """
    data_dir = Path(data_dir).resolve()
    candidate = data_dir.parent.parent / "anchors" / data_dir.name
    return candidate if candidate.is_dir() else None

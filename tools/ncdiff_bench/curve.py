"""A rate-distortion curve: what the runner measures and what an anchor file holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional


@dataclass
class Curve:
    """Averaged RD points of one codec configuration, ordered by rate.

    ``label`` is what plots and tables show; ``kind`` is ``"measured"`` for curves of
    this run and ``"anchor"`` for published ones; ``source`` is an anchor's file.
    """

    label: str
    bpp: List[float]
    psnr: List[float]
    ms_ssim: Optional[List[float]] = None
    kind: str = "measured"
    source: Optional[str] = None

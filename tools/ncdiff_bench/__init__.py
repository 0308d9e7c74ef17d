"""``ncd bench``: rate-distortion benchmark of ncd against Pillow's JPEG, WebP and AVIF and
published anchor curves. Heavy dependencies (torch, piq, matplotlib, the codec itself) load
only when a benchmark runs."""

from .anchors import load_anchors, read_anchor
from .bdrate import bd_psnr, bd_rate
from .curve import Curve
from .metrics import compute as compute_metrics
from .runner import run_bench

__all__ = ["run_bench", "bd_rate", "bd_psnr", "load_anchors", "read_anchor", "compute_metrics", "Curve"]

"""rd.png: PSNR against bpp for every measured curve, published anchors dashed."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ncdiff_plugin.extras import require

from .curve import Curve


def plot_rd(measured: Sequence[Curve], anchors: Sequence[Curve], path: Path, title: str = "") -> None:
    matplotlib = require("matplotlib", "plots")
    matplotlib.use("Agg")  # no display on servers; must precede pyplot's import
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6), dpi=120)
    # Separate palettes, so a measured curve never shares its colour with an anchor.
    measured_colours = matplotlib.colormaps["tab10"]
    anchor_colours = matplotlib.colormaps["Dark2"]
    try:
        for i, curve in enumerate(measured):
            ax.plot(curve.bpp, curve.psnr, marker="o", markersize=3, linewidth=1.5,
                    color=measured_colours(i % 10), label=curve.label)
        for i, curve in enumerate(anchors):
            # Dark2 has 8 colours; past them the dash pattern tells anchors apart.
            ax.plot(curve.bpp, curve.psnr, linestyle=("--", "-.", ":")[i // 8 % 3], linewidth=1,
                    color=anchor_colours(i % 8),
                    label=f"{curve.label} (published)")
        # Anchors reach far beyond a quick run's rates; keep the view on what was measured.
        rates = [b for c in measured for b in c.bpp]
        if rates:
            ax.set_xlim(0, max(rates) * 1.05)
            psnrs = [p for c in measured for p in c.psnr if p == p and p != float("inf")]
            if psnrs:
                ax.set_ylim(min(psnrs) - 1, max(psnrs) + 1)
        ax.set_xlabel("bits per pixel")
        ax.set_ylabel("PSNR RGB (dB)")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never hides points
        fig.savefig(path, bbox_inches="tight")
    finally:
        plt.close(fig)

"""``ncd bench --card``: a Kodak run of the base codec written into its model card.

Export leaves the card's ``kodak`` section empty (the weights are new and unmeasured);
this fills it from the run's results: the points, the BD-rates over the whole range and
below 0.6 bpp, the times, and the BD-rate against the previous release, whose points
the card's history keeps.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional, Sequence

from ncdiff_learned.weights import CARD_POINTS, write_card

from .bdrate import bd_rate
from .report import LOW_RATE_BPP

LABEL = "ncd base"


def check_run(card_path: str, data_dir: str, *, codecs: Sequence[str], decoders: Sequence[str],
              limit: Optional[int], crop: Optional[int]) -> None:
    """Refuses, before anything runs, a bench whose numbers would not describe the release."""
    if not Path(card_path).is_file():
        raise FileNotFoundError(f"no model card at {card_path}")
    if Path(data_dir).name.lower() != "kodak":
        raise ValueError(f"the model card records Kodak results; {data_dir} is not a kodak folder")
    if limit is not None or crop is not None:
        raise ValueError("the model card records whole Kodak images: drop --limit and --crop")
    if "ncd" not in codecs or not any(str(d).split("[")[0] == "base" for d in decoders):
        raise ValueError("the model card records the base decoder: run with --codecs ncd,... --decoder base")


def _round(value: float, digits: int = 1):
    return None if value is None or not math.isfinite(value) else round(value, digits)


def kodak_section(result: dict, command: str, previous_points=None) -> dict:
    """The card's ``kodak`` section from a bench result (the dict results.json holds)."""
    curve = next((c for c in result["curves"] if c["label"] == LABEL), None)
    if curve is None:
        raise ValueError(f"the bench result has no {LABEL!r} curve")
    points = sorted(curve["points"], key=lambda p: p["quality"])
    rows = [r for r in result["bd"] if r["test"] == LABEL]

    def name(row):
        return f"pillow {row['reference']}" if row["reference_kind"] == "measured" else f"{row['reference']} (published)"

    section = {
        "command": command,
        CARD_POINTS: [[p["quality"], round(p["bpp"], 4), round(p["psnr"], 2), _round(p.get("ms_ssim"), 4)]
                 for p in points],
        "bd_rate_psnr_percent": {name(r): _round(r["bd_rate_percent"]) for r in rows},
        f"bd_rate_psnr_percent_below_{LOW_RATE_BPP}_bpp": {name(r): _round(r["bd_rate_low_percent"]) for r in rows},
        "bd_rate_psnr_percent_vs_previous_release": None,
    }
    if previous_points:
        old = sorted(previous_points, key=lambda p: p[1])
        new = sorted(points, key=lambda p: p["bpp"])
        section["bd_rate_psnr_percent_vs_previous_release"] = _round(bd_rate(
            [p[1] for p in old], [p[2] for p in old], [p["bpp"] for p in new], [p["psnr"] for p in new]))
    machine = result.get("machine", {})
    # Kodak's images are all 768x512: the mean over the points is the time of one such image.
    section["time_768x512_s"] = {
        "encode": round(sum(p["enc_s"] for p in points) / len(points), 2),
        "decode base": round(sum(p["dec_s"] for p in points) / len(points), 2),
        "device": f"{machine.get('torch_device', '?').upper()}, {machine.get('torch_threads', '?')} threads"
                  f" ({machine.get('cpu', '?')})",
    }
    return section


def fill_card(card_path: str, result: dict, command: str) -> dict:
    """Writes ``result`` into the card at ``card_path`` (atomically); returns the new section."""
    card = json.loads(Path(card_path).read_text(encoding="utf-8"))
    history = card.get("history") or []
    previous = history[-1].get("kodak_points") if history else None
    card["kodak"] = kodak_section(result, command, previous)
    write_card(card_path, card)
    return card["kodak"]

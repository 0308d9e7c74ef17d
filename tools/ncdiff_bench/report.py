"""Text forms of the results: the stdout tables, bdrate.md and results.json."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, List, Optional, Sequence

from .bdrate import bd_psnr, bd_rate
from .curve import Curve


def _cell(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.{digits}f}"
    return str(value)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], markdown: bool = False) -> str:
    """Rows as an aligned plain-text table, or as a Markdown table."""
    text = [[str(h) for h in headers]] + [[c if isinstance(c, str) else _cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(headers))]
    if markdown:
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in text]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    else:
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in text]
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def curves_table(curves: List[dict], metrics: Sequence[str], markdown: bool = False) -> str:
    """One line per averaged point: codec, decoder, quality, bpp, metrics, timings."""
    shown = ["psnr", "ms_ssim"] + [m for m in metrics if m not in ("psnr", "ms_ssim")]
    titles = {"psnr": "PSNR", "ms_ssim": "MS-SSIM", "lpips": "LPIPS", "fid": "FID"}
    headers = ["codec", "decoder", "quality", "bpp"] + [titles.get(m, m) for m in shown] + ["enc s", "dec s"]
    rows = []
    for curve in curves:
        for p in curve["points"]:
            metric_cells = [_cell(p.get(m), 2 if m == "psnr" else 4) for m in shown]
            rows.append([curve["codec"], curve["variant"], p["quality"], _cell(p["bpp"], 4)] + metric_cells
                        + [_cell(p["enc_s"], 3), _cell(p["dec_s"], 3)])
    return format_table(headers, rows, markdown=markdown)


#: The low rates the diffusion decoders exist for: BD-rate is also reported below this rate.
LOW_RATE_BPP = 0.6


def bd_rows(tests: Sequence[Curve], references: Sequence[Curve]) -> List[dict]:
    """BD-rate (whole overlap, and below LOW_RATE_BPP) and BD-PSNR of every test curve
    against every other reference curve."""
    out = []
    for test in tests:
        for ref in references:
            if ref is test:
                continue
            out.append({
                "test": test.label,
                "reference": ref.label,
                "reference_kind": ref.kind,
                "bd_rate_percent": bd_rate(ref.bpp, ref.psnr, test.bpp, test.psnr),
                "bd_rate_low_percent": bd_rate(ref.bpp, ref.psnr, test.bpp, test.psnr, max_rate=LOW_RATE_BPP),
                "bd_psnr_db": bd_psnr(ref.bpp, ref.psnr, test.bpp, test.psnr),
            })
    return out


def bd_table(rows: List[dict], markdown: bool = False) -> str:
    headers = ["test", "reference", "BD-rate %", f"BD-rate % below {LOW_RATE_BPP} bpp", "BD-PSNR dB"]
    body = [[r["test"], r["reference"] + (" (published)" if r["reference_kind"] == "anchor" else ""),
             _cell(r["bd_rate_percent"], 1), _cell(r.get("bd_rate_low_percent"), 1), _cell(r["bd_psnr_db"], 2)]
            for r in rows]
    return format_table(headers, body, markdown=markdown)


def bd_markdown(rows: List[dict], title: Optional[str] = None) -> str:
    """The contents of bdrate.md."""
    intro = (
        "BD-rate: average bitrate difference at equal PSNR (negative = the test curve needs fewer "
        "bits). BD-PSNR: average PSNR difference at equal bitrate (positive = better). Piecewise-"
        "cubic (pchip) interpolation of log-rate over the overlapping interval; n/a = fewer than 4 "
        "points or no overlap."
    )
    table = bd_table(rows, markdown=True) if rows else "(no pairs to compare)"
    return "\n".join([f"# {title or 'BD-rate'}", "", intro, "", table, ""])


def _json_safe(value: Any) -> Any:
    """Strict JSON: NaN (undefined) and inf (lossless PSNR) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(_json_safe(obj), indent=1, allow_nan=False) + "\n", encoding="utf-8")

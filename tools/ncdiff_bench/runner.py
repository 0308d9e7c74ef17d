"""``run_bench``: measure every codec on every image, average the curves, compare and report."""

from __future__ import annotations

import datetime
import math
import time
import warnings
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
from tqdm import tqdm

from . import metrics as metric_fns
from .anchors import load_anchors
from .backbones import BACKBONE_METRICS, BackboneMetrics
from .classical import CLASSICAL_CODECS, classical_entry, default_qualities
from .curve import Curve
from .entry import BenchEntry
from .images import Size, center_crop, list_images, load_image
from .learned import ncd_entry
from .machine import describe_machine, resolve_device
from .plot import plot_rd
from .report import bd_markdown, bd_rows, bd_table, curves_table, write_json

DEFAULT_NCD_QUALITIES = (5, 15, 30, 50, 75, 95)
# Warm-up runs on a crop this small: it loads models and libraries without costing a full decode.
WARMUP_SIZE = 64


def is_learned(codec: str) -> bool:
    return codec == "ncd" or codec.startswith("ncd-")


def build_entry(name: str, ncd_qualities, decoders, ncd_steps, device) -> BenchEntry:
    """The bench entry for a ``codecs`` name: jpeg/webp/avif, ncd, or ncd-<container codec>."""
    if name in CLASSICAL_CODECS:
        return classical_entry(name)
    if name == "ncd":
        return ncd_entry(ncd_qualities, decoders=decoders, steps=ncd_steps, device=device)
    if name.startswith("ncd-"):
        codec = name[len("ncd-"):]
        # The fallback payload ignores the decoder choice, so one variant is enough; its quality
        # scale is the classical codec's own.
        qualities = default_qualities(codec) if codec in CLASSICAL_CODECS else ncd_qualities
        return ncd_entry(qualities, codec=codec, decoders=("base",), device=device)
    raise ValueError(f"unknown codec {name!r}; use {', '.join(CLASSICAL_CODECS)}, ncd or ncd-<codec>")


def _failure(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _warm_up(entry: BenchEntry, image, skipped: Dict[str, str]) -> Optional[BenchEntry]:
    """One untimed round trip per decode variant, so model loading and first-call setup stay
    out of the timings. Whatever fails here cannot run on this machine: it is recorded in
    ``skipped`` and left out (a variant alone, or the whole entry if encoding fails)."""
    small = center_crop(image, WARMUP_SIZE)
    try:
        data = entry.encode(small, entry.qualities[len(entry.qualities) // 2])
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot run here"
        skipped[entry.name] = _failure(exc)
        return None
    working = []
    for variant in entry.variants:
        try:
            variant.decode(data)
        except Exception as exc:  # noqa: BLE001
            skipped[f"{entry.name} {variant.label}"] = _failure(exc)
            continue
        working.append(variant)
    return replace(entry, variants=tuple(working)) if working else None


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _measure(entries, paths, crop, metric_names, progress, backbone=None) -> List[dict]:
    """Per-image rows for every entry, variant and quality.

    ``backbone`` (a ``BackboneMetrics``) adds LPIPS to each row and collects FID features."""
    rows = []
    per_image = [m for m in metric_names if m in metric_fns.METRICS]
    total = len(paths) * sum(len(e.qualities) * len(e.variants) for e in entries)
    with tqdm(total=total, desc="bench", unit="decode", disable=not progress) as bar:
        for path in paths:
            image = load_image(path, crop)
            original = np.asarray(image)
            pixels = image.width * image.height
            if backbone is not None:
                backbone.add_original(original)
            for entry in entries:
                for quality in entry.qualities:
                    bar.set_postfix_str(f"{path.name} {entry.name} q={quality}")
                    data, enc_s = _timed(entry.encode, image, quality)
                    for variant in entry.variants:
                        decoded, dec_s = _timed(variant.decode, data)
                        if decoded.size != image.size:
                            raise ValueError(f"{entry.name} {variant.label} decoded {path.name} to "
                                             f"{decoded.size}, expected {image.size}")
                        row = {
                            "image": path.name, "width": image.width, "height": image.height,
                            "codec": entry.name, "decoder": variant.decoder, "steps": variant.steps,
                            "variant": variant.label, "quality": quality, "bytes": len(data),
                            "bpp": len(data) * 8 / pixels, "enc_s": enc_s, "dec_s": dec_s,
                            "device": variant.device,
                        }
                        pixels_out = np.asarray(decoded.convert("RGB"))
                        row.update(metric_fns.compute(original, pixels_out, per_image))
                        if backbone is not None:
                            row.update(backbone.measure(original, pixels_out, (entry.name, variant.label, quality)))
                        rows.append(row)
                        bar.update(1)
    return rows


def _mean(values: Sequence[float]) -> float:
    # A plain mean: one NaN (metric undefined for an image) makes the average undefined too,
    # rather than averaging over a different set of images than the other points.
    return float(np.mean(values)) if values else math.nan


def average_curves(rows: List[dict], metric_names: Sequence[str]) -> List[dict]:
    """Per (codec, decoder variant): points averaged over images, one per quality.

    bpp and every metric are averaged over images (the mean of per-image PSNR, as the
    CompressAI anchors do), as are bytes and timings.
    """
    groups: Dict[tuple, Dict[int, List[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        groups[(row["codec"], row["variant"])][row["quality"]].append(row)
    curves = []
    for (codec, variant), by_quality in groups.items():
        first = next(iter(by_quality.values()))[0]
        points = []
        for quality in sorted(by_quality):
            group = by_quality[quality]
            point = {"quality": quality, "images": len(group)}
            for key in ("bpp", "bytes", *metric_names, "enc_s", "dec_s"):
                point[key] = _mean([r[key] for r in group])
            points.append(point)
        label = codec if first["decoder"] == "pillow" else f"{codec} {variant}"
        curves.append({
            "label": label, "codec": codec, "variant": variant, "decoder": first["decoder"],
            "steps": first["steps"], "device": first["device"], "points": points,
        })
    return curves


def _as_curve(curve: dict) -> Curve:
    points = sorted(curve["points"], key=lambda p: p["bpp"])
    ms = [p["ms_ssim"] for p in points] if points and "ms_ssim" in points[0] else None
    return Curve(curve["label"], [p["bpp"] for p in points], [p["psnr"] for p in points], ms)


def run_bench(
    data_dir: Union[str, Path],
    *,
    codecs: Sequence[str] = ("ncd", "jpeg", "webp", "avif"),
    ncd_qualities: Sequence[int] = DEFAULT_NCD_QUALITIES,
    decoders: Sequence[str] = ("base",),
    ncd_steps: Union[None, Sequence[int], Mapping[str, Sequence[int]]] = None,
    anchors_dir: Union[str, Path, None] = None,
    out_dir: Union[str, Path] = "bench-out",
    limit: Optional[int] = None,
    crop: Optional[Size] = None,
    device: Optional[str] = None,
    metrics: Sequence[str] = ("psnr", "ms_ssim"),
    progress: bool = True,
    lpips_weights: Optional[str] = None,
    fid_weights: Optional[str] = None,
) -> dict:
    """Benchmark ``codecs`` on the images of ``data_dir``; write results.json, rd.png, bdrate.md.

    ``ncd_qualities``, ``decoders`` and ``ncd_steps`` apply to the learned codec; classical
    codecs use their default grids (see ``classical.py``). ``device`` is where learned
    decoders run (default: CUDA if available, else CPU). A codec that cannot run here (no
    AVIF in this Pillow, no learned codec installed, missing weights) is skipped with a
    warning and listed under ``"skipped"``. PSNR is always measured (BD-rate needs it).
    ``lpips`` and ``fid`` in ``metrics`` need ``lpips_weights`` / ``fid_weights`` files (see
    ``backbones.py``): nothing is downloaded.

    Returns the same dict as results.json (with NaN/inf kept as floats) plus ``"files"``.
    """
    metric_names = ["psnr"] + [m for m in metrics if m != "psnr"]
    backbone = BackboneMetrics.for_metrics(metric_names, lpips_weights, fid_weights)
    metric_fns.check_names([m for m in metric_names if m not in BACKBONE_METRICS])
    paths = list_images(data_dir, limit)
    anchors = load_anchors(anchors_dir) if anchors_dir else []
    learned_device = resolve_device(device) if any(is_learned(c) for c in codecs) else device

    entries, skipped = [], {}
    first_image = load_image(paths[0], crop)
    for name in codecs:
        try:
            entry = build_entry(name, ncd_qualities, decoders, ncd_steps, learned_device)
        except (ImportError, RuntimeError) as exc:  # not installed / not in this Pillow build
            skipped[name] = _failure(exc)
            continue
        entry = _warm_up(entry, first_image, skipped)
        if entry is not None:
            entries.append(entry)
    for what, reason in skipped.items():
        warnings.warn(f"skipping {what}: {reason}", stacklevel=2)
    if not entries:
        raise RuntimeError(f"no codec could run: {skipped}")

    rows = _measure(entries, paths, crop, metric_names, progress, backbone)
    if backbone is not None:
        backbone.finish(rows)
    curves = average_curves(rows, metric_names)

    # BD-rate: each learned curve against every classical curve of this run and every anchor.
    # A run without a learned codec compares the classical codecs with each other instead.
    measured = {c["label"]: _as_curve(c) for c in curves}
    learned = [measured[c["label"]] for c in curves if is_learned(c["codec"])]
    tests = learned or list(measured.values())
    references = [c for c in measured.values() if all(c is not t for t in learned)] + list(anchors)
    bd = bd_rows(tests, references)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"results": out / "results.json", "plot": out / "rd.png", "bdrate": out / "bdrate.md",
             "curves": out / "curves.md"}
    title = f"{Path(data_dir).name}: {len(paths)} image(s)" + (f", crop {crop}" if crop else "")
    result = {
        "settings": {
            "data_dir": str(data_dir), "codecs": list(codecs), "ncd_qualities": list(ncd_qualities),
            "decoders": list(decoders), "ncd_steps": None if ncd_steps is None else (
                dict(ncd_steps) if isinstance(ncd_steps, Mapping) else list(ncd_steps)),
            "anchors_dir": None if anchors_dir is None else str(anchors_dir), "limit": limit,
            "crop": crop, "device": device, "metrics": metric_names,
            "not_computed": {m: "no backbone weights given (the bench runs offline)"
                             for m in BACKBONE_METRICS if m not in metric_names},
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        },
        "machine": describe_machine(learned_device),
        "images": [p.name for p in paths],
        "skipped": skipped,
        "curves": curves,
        "bd": bd,
        "anchors": [{"label": a.label, "source": a.source, "bpp": a.bpp, "psnr": a.psnr} for a in anchors],
        "rows": rows,
    }
    write_json(files["results"], result)
    plot_rd(list(measured.values()), anchors, files["plot"], title)
    files["bdrate"].write_text(bd_markdown(bd, title=f"BD-rate, {title}"), encoding="utf-8")
    files["curves"].write_text(f"# {title}\n\n{curves_table(curves, metric_names, markdown=True)}\n", encoding="utf-8")

    print(curves_table(curves, metric_names))
    print()
    print(bd_table(bd) if bd else "(no BD-rate pairs)")
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}")
    for name, reason in result["settings"]["not_computed"].items():
        print(f"not computed: {name}: {reason}")
    result["files"] = {k: str(v) for k, v in files.items()}
    return result

"""Keyframes per second: extracting + compressing a video's keyframes, and restoring them.

``ncd video bench VIDEO`` runs both halves once, in a temporary folder:

* encode: demux + decode the keyframes (PyAV) + compress them (the learned codec
  or JPEG) into one ``.ncd`` (:func:`av_ncd.keyframes.encode_frames_of`);
* restore: decode the ``.ncd`` in batches + encode and mux a video
  (:func:`av_ncd.restore.restore_frames`, H.264 ``.mp4`` by default).

Rates are keyframes (frames taken into the ``.ncd``) per second of wall time.
The codec is warmed up first (one 64x64 encode + decode: torch import, model
load), timed apart as ``warmup_seconds``, so the rates are those of a running
process; the split columns tell the video side from the codec side.
"""

import os
import tempfile
import time
import warnings
from typing import Optional

import ncdiff_plugin as ncd
from ncdiff_bench.machine import cpu_model, resolve_device

from .keyframes import encode_frames_of
from .restore import restore_frames


def _device(device: Optional[str], codec: str) -> str:
    return "cpu (JPEG)" if codec == "jpeg" else resolve_device(device)


def _warm_up(quality, codec, decoder, steps, device) -> float:
    """Loads the codec (torch, weights) outside the timed runs; returns the seconds it took."""
    import numpy as np

    import ncdiff_plugin as ncd

    t0 = time.perf_counter()
    grey = np.full((64, 64, 3), 128, np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "auto" falling back to JPEG warns again in the timed run
        data = ncd.encode(grey, quality, codec, **({"device": device} if device else {}))
    ncd.decode(data, decoder=decoder, steps=steps, device=device)
    return time.perf_counter() - t0


def _rate(n: int, seconds: float) -> Optional[float]:
    return round(n / seconds, 3) if seconds > 0 else None


def bench(
    video,
    *,
    quality: int = ncd.DEFAULT_QUALITY,
    codec: str = "auto",
    decoder: Optional[str] = None,
    steps: Optional[int] = None,
    device: Optional[str] = None,
    every: Optional[int] = None,
    all_frames: bool = False,
    video_codec: str = "libx264",
    batch: int = 8,
    progress=False,
) -> dict:
    """Times encode (extract + compress) and restore (decode + write) of a video's keyframes; returns a dict."""
    warmup = _warm_up(quality, codec, decoder, steps, device)
    enc = encode_frames_of(video, quality=quality, codec=codec, every=every, all_frames=all_frames,
                           progress=progress, device=device)
    n = enc.frame_count
    ext = ".mkv" if video_codec == "ffv1" else ".mp4"
    with tempfile.TemporaryDirectory(prefix="ncd-video-bench-") as tmp:
        src = os.path.join(tmp, "frames.ncd")
        with open(src, "wb") as f:
            f.write(enc.data)
        res = restore_frames(src, os.path.join(tmp, "restored" + ext), video_codec=video_codec, decoder=decoder,
                             steps=steps, device=device, batch=batch, progress=progress)
        restored_bytes = os.path.getsize(res.path)
    info = enc.info
    what = "keyframes" if not all_frames and every is None else ("all frames" if all_frames else f"every {every}th frame")
    return {
        "video": os.fspath(video),
        "video_codec": info.codec,
        "width": info.width,
        "height": info.height,
        "video_frames": info.frames,
        "fps": round(float(info.fps), 3) if info.fps else None,
        "selection": what,
        "frames": n,
        "codec": enc.codec,
        "quality": enc.quality,
        "decoder": decoder or "default",
        "device": _device(device, enc.codec),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "ncd_bytes": len(enc.data),
        "bpp_per_frame": round(8 * len(enc.data) / (info.width * info.height * n), 4),
        "warmup_seconds": round(warmup, 3),
        "encode": {
            "seconds": round(enc.total_seconds, 3),
            "extract_seconds": round(enc.decode_seconds, 3),
            "compress_seconds": round(enc.encode_seconds, 3),
            "keyframes_per_second": _rate(n, enc.total_seconds),
        },
        "restore": {
            "seconds": round(res.total_seconds, 3),
            "decode_seconds": round(res.decode_seconds, 3),
            "write_seconds": round(res.write_seconds, 3),
            "keyframes_per_second": _rate(n, res.total_seconds),
            "output": f"{res.video_codec} {ext}, {res.width}x{res.height}, {restored_bytes} bytes",
        },
    }


def format_report(r: dict) -> str:
    e, d = r["encode"], r["restore"]
    src = f"{r['video_frames']} frames" if r["video_frames"] else "frame count unknown"
    return "\n".join([
        f"{r['video']}: {r['width']}x{r['height']} {r['video_codec']}, {src}, {r['fps'] or '?'} fps",
        f"  {r['selection']}: {r['frames']}, codec {r['codec']} (quality {r['quality']}, decoder {r['decoder']}), "
        f"device {r['device']}, {r['cpu_count']} x {r['cpu']}",
        f"  .ncd: {r['ncd_bytes']} bytes, {r['bpp_per_frame']} bpp per frame; codec warm-up "
        f"{r['warmup_seconds']:.3f} s (not counted below)",
        f"  encode  (extract + compress): {e['seconds']:8.3f} s = {e['extract_seconds']:.3f} + "
        f"{e['compress_seconds']:.3f}   {e['keyframes_per_second']} keyframes/s",
        f"  restore (decode + write):     {d['seconds']:8.3f} s = {d['decode_seconds']:.3f} + "
        f"{d['write_seconds']:.3f}   {d['keyframes_per_second']} keyframes/s  ({d['output']})",
    ])

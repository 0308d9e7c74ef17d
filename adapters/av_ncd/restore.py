"""Writing the frames of an ``.ncd`` file back out: a video through PyAV, or PNG files.

Frames are decoded in batches (``ncdiff_plugin.api.decode_container``, which
hands each batch to the codec's ``decode_batch``, so a GPU decoder sees
several frames at once) and written as they come: memory holds one batch.

Video output (``.mp4``, ``.m4v``, ``.mov``: H.264 by default; ``.mkv``: FFV1):

* H.264 (``libx264``, ``yuv420p``, CRF 18) needs an even width and height: an
  odd-sized file is padded by one column / row, a copy of the last one, so no
  pixel is lost (the video is then one pixel wider / taller than the ``.ncd``).
  The RGB to YUV matrix is BT.709 from 720 lines up, BT.601 below (what
  players assume for untagged video), limited range, and tagged in the stream.
* FFV1 stores the decoded RGB losslessly (``bgr0``) at the original size.
* Videos are RGB: gray frames are expanded, alpha is dropped (PNG files keep both).
* Each frame is written at its stored ``pts``, in a stream whose time base is
  the file's time base (a muxer may round it: Matroska keeps milliseconds).
  Files whose ``pts`` do not increase (e.g. images saved without timestamps)
  are written one frame per tick of ``1/fps`` (the header's fps, else 25),
  with a warning.
"""

import io
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import List, Optional

from PIL import PngImagePlugin

from ncdiff_plugin import api, container, files
from ncdiff_plugin.errors import CodecUnavailableError, InvalidOptionError, NCDError

from .keyframes import _av, _av_errors, _describe, _progress_bar

VIDEO_EXTENSIONS = {".mp4": "libx264", ".m4v": "libx264", ".mov": "libx264", ".mkv": "ffv1"}
VIDEO_CODECS = ("libx264", "ffv1")
PIXEL_FORMATS = {"libx264": "yuv420p", "ffv1": "bgr0"}
DEFAULT_FPS = Fraction(25)
X264_OPTIONS = {"crf": "18", "preset": "medium"}


@dataclass
class RestoreResult:
    """What :func:`restore_frames` wrote, with its timings (for summaries and the bench)."""

    path: str
    kind: str  # "video" or "folder"
    video_codec: Optional[str]
    width: int
    height: int
    time_base: Fraction
    pts: List[int] = field(default_factory=list)
    decode_seconds: float = 0.0  # .ncd frames to images
    write_seconds: float = 0.0  # video encoding / PNG writing
    total_seconds: float = 0.0

    @property
    def frame_count(self) -> int:
        return len(self.pts)


def output_kind(dst: str) -> str:
    """``"folder"`` for a folder path (ends with ``/``, no extension, or an existing folder), else ``"video"``."""
    if dst.endswith(("/", os.sep)) or os.path.isdir(dst) or not os.path.splitext(dst)[1]:
        return "folder"
    return "video"


def _video_codec(dst: str, video_codec: Optional[str]) -> str:
    ext = os.path.splitext(dst)[1].lower()
    if ext not in VIDEO_EXTENSIONS:
        raise InvalidOptionError(
            f"cannot tell the video format of {dst!r}: use .mp4, .mov, .m4v or .mkv, or a folder for PNG frames"
        )
    name = video_codec or VIDEO_EXTENSIONS[ext]
    if name not in VIDEO_CODECS:
        raise InvalidOptionError(f"unknown video codec {name!r}; choose from {', '.join(VIDEO_CODECS)}")
    if name == "ffv1" and ext != ".mkv":
        raise InvalidOptionError(f"FFV1 is written to .mkv files only, not {ext}")
    if name not in _av().codecs_available:
        raise CodecUnavailableError(f"this PyAV build has no {name} encoder")
    return name


def _timestamps(parsed: container.Container):
    """(pts list, time base) to write: the stored ones, or 1/fps ticks when they do not increase."""
    pts = [f.pts for f in parsed.frames]
    tb = parsed.header.time_base
    if all(b > a for a, b in zip(pts, pts[1:])):
        return pts, tb
    fps = parsed.header.fps or DEFAULT_FPS
    warnings.warn(f"the frames' pts do not increase; writing them at {fps} frames per second", stacklevel=3)
    return list(range(len(pts))), 1 / Fraction(fps)


def _frame_rate(parsed: container.Container, pts, tb) -> Fraction:
    """The nominal rate given to the encoder (the timestamps decide the timing)."""
    if parsed.header.fps:
        return Fraction(parsed.header.fps)
    steps = [b - a for a, b in zip(pts, pts[1:]) if b > a]
    if steps:
        return (1 / (min(steps) * tb)).limit_denominator(1001)
    return DEFAULT_FPS


def _batches(n: int, batch: int):
    for start in range(0, n, batch):
        yield list(range(start, min(n, start + batch)))


def _check_batch(batch) -> int:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InvalidOptionError(f"batch must be a positive integer, got {batch!r}")
    return batch


def _write_video(parsed, path, codec_name, pts, tb, decode_opts, batch, bar, result):
    av = _av()
    import numpy as np

    h = parsed.header
    pad_w, pad_h = (h.width % 2, h.height % 2) if codec_name == "libx264" else (0, 0)
    width, height = h.width + pad_w, h.height + pad_h
    pix_fmt = PIXEL_FORMATS[codec_name]
    rate = _frame_rate(parsed, pts, tb)
    errors = _av_errors()
    try:
        box = av.open(path, "w")
    except errors as exc:
        raise NCDError(f"cannot write {path}: {_describe(exc)}") from None
    with box:
        try:
            stream = box.add_stream(codec_name, rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            stream.time_base = tb
            stream.codec_context.time_base = tb
            reformat = {"format": pix_fmt}
            if codec_name == "libx264":
                stream.codec_context.options = dict(X264_OPTIONS)
                hd = height >= 720
                reformat.update(dst_colorspace="ITU709" if hd else "ITU601", dst_color_range="MPEG")
                cc = stream.codec_context
                cc.colorspace = 1 if hd else 6  # AVCOL_SPC_BT709 / AVCOL_SPC_SMPTE170M
                cc.color_range = 1  # AVCOL_RANGE_MPEG (limited)
        except errors as exc:
            raise NCDError(f"cannot write {path} with {codec_name}: {_describe(exc)}") from None
        for indexes in _batches(len(parsed.frames), batch):
            t0 = time.perf_counter()
            images = api.decode_container(parsed, indexes, **decode_opts)
            t1 = time.perf_counter()
            result.decode_seconds += t1 - t0
            try:
                for i, img in zip(indexes, images):
                    arr = np.asarray(img.convert("RGB"))
                    if pad_w or pad_h:
                        arr = np.pad(arr, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
                    frame = frame.reformat(**reformat)
                    frame.pts, frame.time_base = pts[i], tb
                    for packet in stream.encode(frame):
                        box.mux(packet)
                    result.pts.append(pts[i])
                    bar.update(1)
                if indexes[-1] == len(parsed.frames) - 1:
                    for packet in stream.encode():
                        box.mux(packet)
            except errors as exc:
                raise NCDError(f"cannot write {path} with {codec_name}: {_describe(exc)}") from None
            result.write_seconds += time.perf_counter() - t1
    return width, height


def _write_pngs(parsed, folder, decode_opts, batch, bar, result):
    tb = parsed.header.time_base
    for indexes in _batches(len(parsed.frames), batch):
        t0 = time.perf_counter()
        images = api.decode_container(parsed, indexes, **decode_opts)
        t1 = time.perf_counter()
        result.decode_seconds += t1 - t0
        for i, img in zip(indexes, images):
            frame = parsed.frames[i]
            text = PngImagePlugin.PngInfo()
            text.add_text("pts", str(frame.pts))
            text.add_text("duration", str(frame.duration))
            text.add_text("time_base", str(tb))
            path = os.path.join(folder, f"frame_{i:06d}.png")
            with files.atomic_output(path) as tmp:
                img.save(tmp, format="PNG", pnginfo=text)
            result.pts.append(frame.pts)
            bar.update(1)
        result.write_seconds += time.perf_counter() - t1


def restore_frames(
    src_ncd,
    dst,
    *,
    video_codec: Optional[str] = None,
    decoder: Optional[str] = None,
    steps: Optional[int] = None,
    device: Optional[str] = None,
    seed: Optional[int] = None,
    batch: int = 8,
    progress=False,
    overwrite: bool = True,
    **decoder_options,
) -> RestoreResult:
    """The work behind :func:`restore`, returning timings as well as the pts written."""
    batch = _check_batch(batch)
    dst = os.fspath(dst)
    kind = output_kind(dst)
    src_path = os.fspath(src_ncd) if isinstance(src_ncd, (str, os.PathLike)) else None
    codec_name = None
    if kind == "video":
        codec_name = _video_codec(dst, video_codec)
        files.check_output(dst, [src_path] if src_path else [], force=overwrite)
    else:
        if video_codec is not None:
            raise InvalidOptionError(f"{dst!r} is a folder of PNG files: a video codec does not apply")
        folder = dst.rstrip("/" + os.sep) or dst
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise InvalidOptionError(f"{folder} exists and is not a folder")
        if os.path.isdir(folder) and os.listdir(folder) and not overwrite:
            raise InvalidOptionError(f"{folder} exists and is not empty (use -f to write into it)")
    t_start = time.perf_counter()
    parsed = container.read(io.BytesIO(api.read_source(src_ncd)))
    decode_opts = api.decode_options(decoder, steps, device, seed, **decoder_options)
    h = parsed.header
    result = RestoreResult(path=dst, kind=kind, video_codec=codec_name, width=h.width, height=h.height,
                           time_base=h.time_base)
    n = len(parsed.frames)
    with _progress_bar(n, "restoring frames", progress) as bar:
        if kind == "video":
            pts, tb = _timestamps(parsed)
            result.time_base = tb
            with files.atomic_output(dst) as tmp:
                result.width, result.height = _write_video(parsed, tmp, codec_name, pts, tb, decode_opts, batch,
                                                           bar, result)
        elif os.path.isdir(folder):
            _write_pngs(parsed, folder, decode_opts, batch, bar, result)
        else:
            # a new folder: filled beside its final name, renamed into place when complete
            parent = os.path.dirname(os.path.abspath(folder))
            tmp = tempfile.mkdtemp(prefix=".ncd-", dir=parent)
            try:
                _write_pngs(parsed, tmp, decode_opts, batch, bar, result)
                os.rename(tmp, folder)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            os.chmod(folder, 0o777 & ~_umask())
    result.total_seconds = time.perf_counter() - t_start
    return result


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def restore(
    src_ncd,
    dst,
    *,
    video_codec: Optional[str] = None,
    decoder: Optional[str] = None,
    steps: Optional[int] = None,
    device: Optional[str] = None,
    seed: Optional[int] = None,
    batch: int = 8,
    progress: bool = False,
    overwrite: bool = True,
    **decoder_options,
) -> List[int]:
    """Decodes every frame of an ``.ncd`` file and writes a video, or a folder of PNG files.

    ``dst`` ending in ``.mp4`` / ``.m4v`` / ``.mov`` gets H.264 (``libx264``),
    ``.mkv`` gets FFV1 (``video_codec`` chooses: ``"libx264"`` or ``"ffv1"``);
    a folder (ending with ``/``, without extension, or existing) gets
    ``frame_000000.png``, ``frame_000001.png``... with ``pts``, ``duration`` and
    ``time_base`` as PNG text.  Frames are decoded ``batch`` at a time with
    ``decoder`` / ``steps`` / ``device`` / ``seed`` and any further decoder
    options (e.g. ``kappa=``, ``guidance=`` of the ``nc`` decoder); options left
    ``None`` are not passed.  The video is written atomically; a new folder appears only
    when complete; an existing non-empty folder, or an existing video, is
    refused with ``overwrite=False``.  Returns the pts written, in order (in
    the file's time base; see the module notes for files without increasing
    pts).
    """
    return restore_frames(src_ncd, dst, video_codec=video_codec, decoder=decoder, steps=steps, device=device,
                          seed=seed, batch=batch, progress=progress, overwrite=overwrite, **decoder_options).pts

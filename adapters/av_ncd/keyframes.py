"""Reading frames from a video with PyAV, and compressing them into one ``.ncd``.

``av`` is imported inside the functions: ``ncdiff_plugin`` imports every
plugin module at start-up, and PyAV is not needed to encode or decode images.

Keyframes are decoded with ``codec_context.skip_frame = "NONKEY"``: the decoder
drops every other frame before reconstructing it, so extracting the keyframes of
a long video costs little more than demuxing it.
"""

import math
import os
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator, List, Optional, Tuple

from PIL import Image

import ncdiff_plugin as ncd
from ncdiff_plugin import files, options
from ncdiff_plugin.errors import CorruptFileError, InvalidOptionError, NCDError
from ncdiff_plugin.extras import require

#: Default cap on the number of frames put into one ``.ncd`` (``--max-frames``);
#: never more than :data:`ncdiff_plugin.options.MAX_FRAMES`, which readers enforce.
DEFAULT_MAX_FRAMES = 10_000


@dataclass
class VideoInfo:
    """What the first video stream of a file says about itself."""

    path: str
    width: int
    height: int
    codec: str
    time_base: Fraction
    fps: Optional[Fraction]  # average_rate, else guessed_rate, else None
    frames: Optional[int]  # frame count from the container, None when it does not say
    duration: Optional[float]  # seconds, None when unknown


def _av():
    return require("av", "av_ncd (video keyframes)")


def _av_errors():
    av = _av()
    return (av.FFmpegError, OSError, ValueError, EOFError, RuntimeError)


def _describe(exc) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())


def _open(path):
    """(container, first video stream), PyAV's errors turned into NCDError."""
    av = _av()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise NCDError(f"no such file: {path}")
    if os.path.isdir(path):
        raise NCDError(f"not a video: {path} is a folder")
    try:
        box = av.open(path, "r")
    except _av_errors() as exc:
        raise CorruptFileError(f"not a video: {path} ({_describe(exc)})") from None
    if not box.streams.video:
        box.close()
        raise CorruptFileError(f"not a video: {path} has no video stream")
    return box, box.streams.video[0]


def _info(path: str, stream, box) -> VideoInfo:
    fps = stream.average_rate or stream.guessed_rate
    fps = Fraction(fps) if fps else None
    time_base = Fraction(stream.time_base) if stream.time_base else (1 / fps if fps else Fraction(1, 1000))
    duration = None
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif box.duration:
        duration = box.duration / 1_000_000
    frames = stream.frames or None
    if frames is None and duration and fps:
        frames = int(round(duration * fps))
    cc = stream.codec_context
    return VideoInfo(path=path, width=cc.width, height=cc.height, codec=cc.name, time_base=time_base,
                     fps=fps, frames=frames, duration=duration)


def probe(path) -> VideoInfo:
    """Size, codec, time base, frame rate and frame count of a video's first video stream."""
    box, stream = _open(path)
    with box:
        return _info(os.fspath(path), stream, box)


def count_keyframes(path) -> int:
    """The number of keyframe packets of the first video stream, by PyAV's own packet flags.

    Demuxes only (nothing is decoded); this is the reference the keyframe
    extraction is tested against.
    """
    box, stream = _open(path)
    count = 0
    with box:
        try:
            for packet in box.demux(stream):
                if packet.size and packet.is_keyframe:
                    count += 1
        except _av_errors() as exc:
            raise CorruptFileError(f"{path}: the video cannot be demuxed ({_describe(exc)})") from None
    return count


def _check_every(every) -> Optional[int]:
    if every is None:
        return None
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise InvalidOptionError(f"every must be a positive integer, got {every!r}")
    return every


class FrameReader:
    """Iterator of ``(PIL.Image RGB, pts, duration)`` over a video's frames; see :func:`read_frames`.

    ``info`` (a :class:`VideoInfo`) is available as soon as it is created;
    ``expected`` is the number of frames it will yield when the container says
    how many frames the stream has (``None`` for keyframes, which only decoding
    reveals).  Use it as a context manager, or exhaust it, to close the file.
    """

    def __init__(self, path, *, keyframes_only: bool = True, every: Optional[int] = None):
        self.every = _check_every(every)
        self.keyframes_only = bool(keyframes_only) and self.every is None
        self._box, self._stream = _open(path)
        self.info = _info(os.fspath(path), self._stream, self._box)
        self.decode_seconds = 0.0
        if self.keyframes_only:
            self._stream.codec_context.skip_frame = "NONKEY"
            self.expected = None
        else:
            self._stream.thread_type = "AUTO"
            n = self.info.frames
            self.expected = None if n is None else math.ceil(n / (self.every or 1))
        fps, tb = self.info.fps, self.info.time_base
        self._default_duration = int(round(1 / (fps * tb))) if fps and tb else 0
        self._iter = self._frames()

    def _frames(self) -> Iterator[Tuple[Image.Image, int, int]]:
        errors = _av_errors()
        box, stream = self._box, self._stream
        index, next_pts = 0, 0
        try:
            decoded = box.decode(stream)
            while True:
                t0 = time.perf_counter()
                try:
                    frame = next(decoded)
                except StopIteration:
                    break
                except errors as exc:
                    raise CorruptFileError(
                        f"{self.info.path}: the video cannot be decoded after frame {index} ({_describe(exc)})"
                    ) from None
                if self.keyframes_only and not frame.key_frame:
                    # a decoder that ignores skip_frame: PyAV's flag decides
                    self.decode_seconds += time.perf_counter() - t0
                    continue
                keep = self.every is None or index % self.every == 0
                index += 1
                pts = frame.pts if frame.pts is not None else frame.dts
                if pts is None:
                    pts = next_pts
                duration = frame.duration or self._default_duration
                next_pts = pts + max(duration, 1)
                if not keep:
                    self.decode_seconds += time.perf_counter() - t0
                    continue
                img = frame.to_image()
                self.decode_seconds += time.perf_counter() - t0
                yield img, int(pts), int(duration)
        finally:
            self.close()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._iter)

    def close(self) -> None:
        if self._box is not None:
            self._box.close()
            self._box = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._iter.close()
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover
            pass


def read_frames(path, *, keyframes_only: bool = True, every: Optional[int] = None) -> FrameReader:
    """Decodes a video's frames with PyAV: an iterator of ``(PIL.Image RGB, pts, duration)``.

    By default only the keyframes are decoded (``skip_frame = "NONKEY"``).
    ``every=N`` decodes every frame and keeps frames 0, N, 2N... in
    presentation order (it overrides ``keyframes_only``); ``keyframes_only=False``
    without ``every`` keeps every frame.  ``pts`` and ``duration`` are in the
    stream's time base (``reader.info.time_base``); a missing duration is one
    frame at the stream's frame rate.  Raises :class:`ncdiff_plugin.NCDError`
    (``CorruptFileError`` "not a video: ...") on files PyAV cannot read.
    """
    return FrameReader(path, keyframes_only=keyframes_only, every=every)


@dataclass
class EncodeResult:
    """What :func:`encode_frames_of` produced, with its timings (for summaries and the bench)."""

    data: bytes
    info: VideoInfo
    codec: str
    quality: int
    pts: List[int] = field(default_factory=list)
    decode_seconds: float = 0.0  # demux + decode + RGB conversion
    encode_seconds: float = 0.0  # learned / JPEG compression
    total_seconds: float = 0.0

    @property
    def frame_count(self) -> int:
        return len(self.pts)


def _progress_bar(total, desc, progress):
    """tqdm bar on stderr: ``progress`` True shows it, None shows it on a terminal, False hides it."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", disable=(None if progress is None else not progress),
                leave=False, dynamic_ncols=True)


def encode_frames_of(
    src,
    *,
    quality: int = ncd.DEFAULT_QUALITY,
    codec: str = "auto",
    every: Optional[int] = None,
    all_frames: bool = False,
    max_frames: Optional[int] = DEFAULT_MAX_FRAMES,
    progress=False,
    **codec_options,
) -> EncodeResult:
    """The work behind :func:`encode_keyframes`, returning timings as well as the bytes.

    Frames are compressed one by one as they are decoded, into one
    :class:`ncdiff_plugin.FrameWriter`, so only compressed data is held in
    memory, never the decoded frames of the whole video.  The result is the file
    ``ncdiff_plugin.encode_frames(all_frames, pts=..., durations=..., time_base=..., fps=...)``
    would write.
    """
    if all_frames and every not in (None, 1):
        raise InvalidOptionError("give either every or all_frames, not both")
    if all_frames:
        every = 1
    cap = options.MAX_FRAMES if max_frames is None else max_frames
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise InvalidOptionError(f"max_frames must be a positive integer, got {max_frames!r}")
    if options.MAX_FRAMES:
        cap = min(cap, options.MAX_FRAMES)
    codec_options = {k: v for k, v in codec_options.items() if v is not None}
    t_start = time.perf_counter()
    frame_pts: List[int] = []
    encode_seconds = 0.0
    reader = read_frames(src, keyframes_only=True, every=every)
    info = reader.info
    writer = ncd.FrameWriter(quality, codec, time_base=info.time_base, fps=info.fps, **codec_options)
    what = "keyframes" if reader.keyframes_only else "frames"
    if reader.expected is not None and reader.expected > cap:
        reader.close()
        raise InvalidOptionError(
            f"{src} has {reader.expected} {what} to encode, over the limit of {cap} (raise --max-frames / max_frames, "
            f"or keep fewer with --every)"
        )
    # Keyframes: how many there are shows only while decoding, so the bar follows the
    # position in the video (its frame count) and counts the keyframes in its postfix.
    by_position = reader.expected is None and info.frames and info.fps
    total = info.frames if by_position else reader.expected
    with reader, _progress_bar(total, f"encoding {what}", progress) as bar:
        for img, pts, duration in reader:
            if len(frame_pts) >= cap:
                raise InvalidOptionError(
                    f"{src} has more than {cap} {what} to encode (raise --max-frames / max_frames, "
                    f"or keep fewer with --every)"
                )
            t0 = time.perf_counter()
            try:
                writer.add(img, pts, duration)
            except InvalidOptionError as exc:
                raise InvalidOptionError(f"{src}, the frame at pts {pts}: {exc}") from None
            encode_seconds += time.perf_counter() - t0
            frame_pts.append(pts)
            if by_position:
                position = min(total, int((pts - frame_pts[0]) * info.time_base * info.fps) + 1)
                bar.update(max(0, position - bar.n))
                bar.set_postfix(keyframes=len(frame_pts), refresh=False)
            else:
                bar.update(1)
        if by_position and not bar.disable:
            bar.update(max(0, total - bar.n))
    if not frame_pts:
        raise CorruptFileError(f"no {what} could be decoded from {src}")
    return EncodeResult(
        data=writer.finish(), info=info, codec=writer.codec_id, quality=writer.quality, pts=frame_pts,
        decode_seconds=reader.decode_seconds, encode_seconds=encode_seconds,
        total_seconds=time.perf_counter() - t_start,
    )


def encode_keyframes(
    src,
    dst=None,
    *,
    quality: int = ncd.DEFAULT_QUALITY,
    codec: str = "auto",
    every: Optional[int] = None,
    all_frames: bool = False,
    progress: bool = False,
    max_frames: Optional[int] = DEFAULT_MAX_FRAMES,
    overwrite: bool = True,
    **codec_options,
) -> bytes:
    """Compresses a video's keyframes (or every Nth frame, or all) into one multi-frame ``.ncd``.

    Returns the ``.ncd`` bytes and writes them atomically to ``dst`` when given
    (``overwrite=False`` refuses an existing ``dst``; the input is never
    overwritten).  Each frame keeps its ``pts`` and duration in the stream's
    time base, which is stored with the stream's frame rate in the header.
    ``codec`` is ``"auto"`` (learned when it can run, else JPEG), ``"learned"``
    or ``"jpeg"``; ``codec_options`` (e.g. ``device=``) go to the codec.
    At most ``max_frames`` frames (default 10000, never over
    ``ncdiff_plugin.options.MAX_FRAMES``) are taken; more is an error, not a
    silent cut.
    """
    if dst is not None:
        files.check_output(os.fspath(dst), [os.fspath(src)], force=overwrite)
    result = encode_frames_of(src, quality=quality, codec=codec, every=every, all_frames=all_frames,
                              max_frames=max_frames, progress=progress, **codec_options)
    if dst is not None:
        files.write_bytes(os.fspath(dst), result.data)
    return result.data

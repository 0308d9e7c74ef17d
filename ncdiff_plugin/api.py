"""The Python API: encode, decode, inspect."""

import io
import os
import struct
import warnings
from fractions import Fraction
from typing import Iterable, List, Optional, Sequence

from PIL import Image

from . import container, images
from .codec import Codec
from .errors import (
    CodecUnavailableError,
    CorruptFileError,
    ImageTooLargeError,
    InvalidOptionError,
    NCDError,
    UnknownCodecError,
    UnsupportedModeError,
)
from .plugins import get_codecs

#: Quality of every encode that names none (the API, the adapters, the command line).
DEFAULT_QUALITY = 75
DEFAULT_CODEC = "learned"
FALLBACK_CODEC = "jpeg"
EXIF_PREFIX = b"Exif\x00\x00"


def _check_quality(quality) -> int:
    if isinstance(quality, bool) or not isinstance(quality, (int, float)) or quality != int(quality):
        raise InvalidOptionError(f"quality must be an integer 1..100, got {quality!r}")
    if not 1 <= int(quality) <= 100:
        raise InvalidOptionError(f"quality must be in 1..100, got {quality}")
    return int(quality)


def _rational(value, what: str) -> Fraction:
    """A positive fraction that fits the header's 32-bit fields (floats allowed: 30000/1001)."""
    try:
        frac = Fraction(value).limit_denominator(1_000_000)
    except (TypeError, ValueError):
        raise InvalidOptionError(f"{what} must be a number, got {value!r}") from None
    if frac <= 0 or frac.numerator >= 2**32:
        raise InvalidOptionError(f"{what} must be positive and representable, got {value!r}")
    return frac


def select_codec(name: str, mode: str, size=(0, 0)) -> Codec:
    """The codec for ``name`` ("auto" or a codec id), an image mode and size."""
    codecs = get_codecs()
    if name == "auto":
        learned = codecs.get(DEFAULT_CODEC)
        reason = learned.unavailable_reason() if learned else "its plugin is not installed"
        too_large = learned is not None and not learned.fits(*size)
        if reason is None and mode.rstrip("A") in learned.modes and not too_large:
            return learned
        if reason is None:
            reason = f"the image is over its {learned.max_pixels} pixels" if too_large else f"it does not take mode {mode}"
        warnings.warn(f"learned codec not used ({reason}); encoding with JPEG", stacklevel=3)
        name = FALLBACK_CODEC
    codec = codecs.get(name)
    if codec is None:
        raise InvalidOptionError(f"unknown codec {name!r}; installed: auto, {', '.join(sorted(codecs))}")
    reason = codec.unavailable_reason()
    if reason:
        raise CodecUnavailableError(f"codec {name!r} cannot run here: {reason}")
    base_mode = mode[:-1] if mode in ("LA", "RGBA") else mode
    if base_mode not in codec.modes:
        raise UnsupportedModeError(f"codec {name!r} cannot encode mode {mode}")
    return codec


def _metadata(first: Image.Image, exif, icc_profile, xmp) -> dict:
    if exif is None:
        exif = first.info.get("exif")
    if isinstance(exif, Image.Exif):
        exif = exif.tobytes()
    if exif and exif.startswith(EXIF_PREFIX):
        exif = exif[len(EXIF_PREFIX):]
    if icc_profile is None:
        icc_profile = first.info.get("icc_profile")
    if xmp is None:
        xmp = first.info.get("xmp") or first.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return {"exif": exif or b"", "icc_profile": icc_profile or b"", "xmp": xmp or b""}


def encode(img, quality: int = DEFAULT_QUALITY, codec: str = "auto", *, exif=None, icc_profile=None, xmp=None, **options) -> bytes:
    """Encodes one image into ``.ncd`` bytes.

    ``img`` is a PIL image or an HxW / HxWx3 / HxWx4 uint8 array in RGB(A)
    order.  ``codec`` is ``"auto"`` (the learned codec when it can run, else
    JPEG) or a codec id.  EXIF, ICC profile and XMP default to the image's own
    (``img.info``); pass ``b""`` to drop them.
    """
    return encode_frames([img], quality, codec, exif=exif, icc_profile=icc_profile, xmp=xmp, **options)


def encode_frames(
    frames: Iterable,
    quality: int = DEFAULT_QUALITY,
    codec: str = "auto",
    *,
    pts: Optional[Sequence[int]] = None,
    durations: Optional[Sequence[int]] = None,
    time_base: Fraction = Fraction(1, 1000),
    fps: Optional[Fraction] = None,
    exif=None,
    icc_profile=None,
    xmp=None,
    **options,
) -> bytes:
    """Encodes a sequence of same-sized images (video keyframes, an animation).

    ``pts`` and ``durations`` are in ``time_base`` units (default milliseconds);
    without ``pts`` frames follow each other by their durations.
    """
    frames = list(frames)
    n = len(frames)
    durations = list(durations) if durations is not None else [0] * n
    pts = list(pts) if pts is not None else [None] * n
    if len(pts) != n or len(durations) != n:
        raise InvalidOptionError("pts and durations need one value per frame")
    writer = FrameWriter(quality, codec, time_base=time_base, fps=fps, exif=exif, icc_profile=icc_profile, xmp=xmp,
                         **options)
    for frame, t, d in zip(frames, pts, durations):
        writer.add(frame, t, d)
    return writer.finish()


class FrameWriter:
    """A multi-frame file built one image at a time: ``add(image, pts, duration)``, then ``finish()``.

    Only the compressed payloads are held, never the images, so a video's
    keyframes go straight from its decoder into one file.  The first image
    fixes the size, the mode and the codec (``"auto"`` is resolved once);
    the others must have its size and are converted to its mode.  Without
    ``pts`` a frame starts where the previous one ended.
    """

    def __init__(self, quality: int = DEFAULT_QUALITY, codec: str = "auto", *, time_base=Fraction(1, 1000), fps=None,
                 exif=None, icc_profile=None, xmp=None, **options):
        self.quality = _check_quality(quality)
        self._codec_name = codec
        self._time_base = _rational(time_base, "time_base")
        self._fps = _rational(fps, "fps") if fps else None
        self._metadata = (exif, icc_profile, xmp)
        self._options = options
        self._file: Optional[container.Container] = None
        self._codec: Optional[Codec] = None
        self._next_pts = 0

    @property
    def codec_id(self) -> Optional[str]:
        """The codec every frame uses, once the first frame is added."""
        return self._codec.id if self._codec else None

    @property
    def frame_count(self) -> int:
        return len(self._file.frames) if self._file else 0

    def add(self, image, pts: Optional[int] = None, duration: int = 0) -> None:
        img = images.normalise_mode(images.to_pil(image))
        if self._file is None:
            if img.width < 1 or img.height < 1:
                raise InvalidOptionError(f"cannot encode an empty image {img.size}")
            self._codec = select_codec(self._codec_name, img.mode, img.size)
            model_id, weights_hash = self._codec.model_info()
            header = container.Header(
                width=img.width, height=img.height, mode=img.mode, quality=self.quality, codec_id=self._codec.id,
                plugin=self._codec.plugin, model_id=model_id, weights_hash=weights_hash, time_base=self._time_base,
                fps=self._fps,
            )
            self._file = container.Container(header=header, metadata=_metadata(img, *self._metadata))
        h = self._file.header
        if img.size != (h.width, h.height):
            raise InvalidOptionError(f"frame {self.frame_count} is {img.width}x{img.height}, frame 0 is "
                                     f"{h.width}x{h.height}")
        if img.mode != h.mode:
            img = img.convert(h.mode)
        container.check_limits(h.width, h.height, self.frame_count + 1, warn=False)
        pts = self._next_pts if pts is None else int(pts)
        colour, alpha = images.split_alpha(img)
        payloads = self._codec.encode(colour, self.quality, **self._options)
        self._file.frames.append(container.Frame(
            payloads=payloads, pts=pts, duration=int(duration),
            alpha=images.encode_alpha(alpha) if alpha is not None else None,
        ))
        self._next_pts = pts + int(duration)

    def finish(self) -> bytes:
        """The file's bytes."""
        if self._file is None:
            raise InvalidOptionError("no frames to encode")
        return container.write(self._file)


def read_source(data) -> bytes:
    """The bytes of ``data``: bytes-like, a path, or a binary file object (read to its end)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return f.read()
    if hasattr(data, "read"):
        return data.read()
    raise TypeError(f"expected bytes, a path or a binary file, got {type(data).__name__}")


def codec_for(header: container.Header) -> Codec:
    """The installed codec able to decode a file, or a clear error naming what to install."""
    codec = get_codecs().get(header.codec_id)
    if codec is None:
        plugin = f" provided by the plugin {header.plugin!r}" if header.plugin else ""
        raise UnknownCodecError(
            f"the file uses codec {header.codec_id!r}{plugin}, which is not installed here; "
            f"install {header.plugin or 'the plugin that provides it'} (it registers in the "
            f"'ncdiff' entry-point group)"
        )
    reason = codec.unavailable_reason()
    if reason:
        raise CodecUnavailableError(f"codec {header.codec_id!r} cannot run here: {reason}")
    return codec


def _finish(img: Image.Image, parsed: container.Container, frame: container.Frame, region=None) -> Image.Image:
    header = parsed.header
    box = region or (0, 0, header.width, header.height)
    if not isinstance(img, Image.Image) or img.size != box[2:]:
        raise CorruptFileError(f"codec {header.codec_id!r} returned an image of the wrong size")
    base_mode = header.mode[:-1] if header.mode in ("LA", "RGBA") else header.mode
    if img.mode != base_mode:
        img = img.convert(base_mode)
    if frame.alpha is not None:
        img = img.convert(header.mode)
        alpha = images.decode_alpha(frame.alpha, (header.width, header.height))
        img.putalpha(alpha.crop(_corners(box)) if region else alpha)
    meta = parsed.metadata
    if meta.get("exif"):
        img.info["exif"] = EXIF_PREFIX + meta["exif"]
    if meta.get("icc_profile"):
        img.info["icc_profile"] = meta["icc_profile"]
    if meta.get("xmp"):
        img.info["xmp"] = meta["xmp"]
    return img


def _corners(box):
    left, top, width, height = box
    return (left, top, left + width, top + height)


def check_region(region, width: int, height: int) -> tuple:
    """``region`` as (left, top, width, height) ints inside a ``width`` x ``height`` image, or InvalidOptionError."""
    try:
        left, top, w, h = (int(v) for v in region)
        if any(int(v) != v or isinstance(v, bool) for v in region):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidOptionError(f"region must be four integers (left, top, width, height), got {region!r}") from None
    if left < 0 or top < 0 or w < 1 or h < 1 or left + w > width or top + h > height:
        raise InvalidOptionError(f"region {[left, top, w, h]} is empty or outside the {width}x{height} image")
    return left, top, w, h


def decode_options(decoder=None, steps=None, device=None, seed=None, **extra) -> dict:
    """The decode options that are set, as keyword arguments of :func:`decode_container` (None means the default)."""
    return {k: v for k, v in dict(decoder=decoder, steps=steps, device=device, seed=seed, **extra).items() if v is not None}


def _out_of_memory(exc: BaseException) -> bool:
    """True for the allocators' out-of-memory errors (torch's are RuntimeErrors)."""
    text = str(exc).lower()
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in text or "can't allocate memory" in text


def decode_container(parsed: container.Container, indexes: Sequence[int], region=None, **options) -> List[Image.Image]:
    """Decodes the given frames of a parsed container (batched by the codec); ``region``:
    (left, top, width, height) of each frame only."""
    codec = codec_for(parsed.header)
    for i in indexes:
        if not 0 <= i < len(parsed.frames):
            raise InvalidOptionError(f"frame {i} out of range: the file has {len(parsed.frames)}")
    h = parsed.header
    if region is not None:
        region = check_region(region, h.width, h.height)
    if not codec.tiled and any(parsed.frames[i].tiles for i in indexes):
        raise CorruptFileError(f"the file has TILE chunks, but codec {h.codec_id!r} does not code tiles")
    if region is not None and codec.tiled:
        options["region"] = region
    try:
        codec.check_header(parsed.header)
        decoded = codec.decode_batch([parsed.frames[i].payloads for i in indexes], parsed.header, **options)
        if region is not None and not codec.tiled:
            decoded = [img.crop(_corners(region)) for img in decoded]
    except NCDError:
        raise
    except (MemoryError, OSError, SyntaxError, EOFError, LookupError, RuntimeError, ValueError, ArithmeticError,
            struct.error) as exc:
        # Whatever a codec raises on a bad payload (a learned codec's fixed-point
        # overflow is an ArithmeticError) is an NCDError; running out of memory
        # on a file that declares a large image is not "corrupt" but too large here.
        if isinstance(exc, MemoryError) or _out_of_memory(exc):
            raise ImageTooLargeError(
                f"not enough memory to decode {len(indexes)} frame(s) of {h.width}x{h.height} with codec "
                f"{h.codec_id!r}: {exc}"
            ) from None
        raise CorruptFileError(f"{h.codec_id} payload cannot be decoded: {type(exc).__name__}: {exc}") from None
    return [_finish(img, parsed, parsed.frames[i], region) for img, i in zip(decoded, indexes)]


def decode(data, *, frame: int = 0, region=None, decoder=None, steps=None, device=None, seed=None,
           **options) -> Image.Image:
    """Decodes one frame of an ``.ncd`` file (bytes, path or binary file) to a PIL image.

    ``region=(left, top, width, height)`` returns only those pixels, exactly as
    the full decode has them; a file coded in tiles decodes only the tiles under it.

    ``decoder`` (learned files: ``"base"``, or ``"nc"`` / ``"cdc"`` when installed),
    ``steps``, ``device`` and ``seed`` choose how it is decoded; further decoder
    options (``kappa`` and ``guidance`` for ``nc``; ``eta`` and ``gamma`` for ``cdc``) pass through.
    Codecs ignore what does not apply to them.
    """
    parsed = container.read(io.BytesIO(read_source(data)))
    return decode_container(parsed, [frame], region, **decode_options(decoder, steps, device, seed, **options))[0]


def decode_frames(data, *, decoder=None, steps=None, device=None, seed=None, **options) -> List[Image.Image]:
    """Decodes every frame (batched by the codec); each image's ``info`` has ``pts`` and ``duration``."""
    parsed = container.read(io.BytesIO(read_source(data)))
    out = decode_container(parsed, range(len(parsed.frames)), **decode_options(decoder, steps, device, seed, **options))
    for img, f in zip(out, parsed.frames):
        img.info.update(pts=f.pts, duration=f.duration)
    return out


def inspect(data) -> dict:
    """The header and chunks of a file as a dict, without decoding pixels.

    Reads the whole structure, so CRCs and the frame count are verified.
    """
    raw = read_source(data)
    parsed = container.read(io.BytesIO(raw))
    h = parsed.header
    return {
        "format_version": f"{h.version[0]}.{h.version[1]}",
        "width": h.width,
        "height": h.height,
        "mode": h.mode,
        "quality": h.quality,
        "codec": h.codec_id,
        "plugin": h.plugin,
        "model_id": h.model_id,
        "weights_sha256": h.weights_hash.hex() if any(h.weights_hash) else "",
        "frame_count": h.frame_count,
        "time_base": str(h.time_base),
        "fps": str(h.fps) if h.fps else None,
        "metadata": {k: len(v) for k, v in parsed.metadata.items()},
        "file_bytes": len(raw),
        "bpp": round(8 * len(raw) / (h.width * h.height * h.frame_count), 4),
        "frames": [
            {
                "index": i,
                "pts": f.pts,
                "duration": f.duration,
                "streams": [len(p) for p in f.streams()],
                "tiles": [list(t.box) for t in f.tiles] if f.tiles else [[0, 0, h.width, h.height]],
                "alpha_bytes": len(f.alpha) if f.alpha is not None else 0,
            }
            for i, f in enumerate(parsed.frames)
        ],
        "chunks": [{"type": t, "offset": o, "length": n} for t, o, n in parsed.chunks],
    }

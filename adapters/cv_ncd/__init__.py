"""OpenCV adapter: ``.ncd`` from and to BGR / BGRA / gray numpy arrays.

``encode`` / ``decode`` raise on bad input; ``imencode`` / ``imdecode`` are
twins of cv2's functions (same signatures and habits: ``imdecode`` returns
``None`` on undecodable data) that handle ``.ncd`` and pass every other
format to cv2.  Errors are :class:`cv_ncd.error`, both an
``ncdiff_plugin.NCDError`` and a ``cv2.error``.  cv2 is imported on first use,
so loading the plugin stays cheap.
"""

import numpy as np

import ncdiff_plugin as ncd
from ncdiff_plugin.extras import require

# The values of cv2's flags, so that either spelling works.
IMREAD_UNCHANGED, IMREAD_GRAYSCALE, IMREAD_COLOR, IMREAD_ANYCOLOR = -1, 0, 1, 4
IMREAD_COLOR_RGB = 256
# imencode parameter ids for .ncd, clear of cv2's IMWRITE_* values.
IMWRITE_NCD_QUALITY = 0x4E4301
IMWRITE_NCD_CODEC = 0x4E4302
NCD_CODEC_AUTO, NCD_CODEC_LEARNED, NCD_CODEC_JPEG = 0, 1, 2
_CODEC_NAMES = {NCD_CODEC_AUTO: "auto", NCD_CODEC_LEARNED: "learned", NCD_CODEC_JPEG: "jpeg"}

_error_class = None


def _cv2():
    return require("cv2", "cv_ncd")


def _error():
    """``cv_ncd.error``: created on first use, subclass of NCDError and cv2.error."""
    global _error_class
    if _error_class is None:
        cv2 = _cv2()

        class error(ncd.NCDError, cv2.error):
            """An ncdiff error that OpenCV code catching cv2.error also catches."""

        error.__module__ = __name__
        _error_class = error
    return _error_class


def __getattr__(name):
    if name == "error":
        return _error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _to_rgb_order(img: np.ndarray) -> np.ndarray:
    if not isinstance(img, np.ndarray):
        raise _error()(f"expected a numpy array, got {type(img).__name__}")
    if img.ndim == 3 and img.shape[2] == 3:
        return np.ascontiguousarray(img[:, :, ::-1])
    if img.ndim == 3 and img.shape[2] == 4:
        return np.ascontiguousarray(img[:, :, [2, 1, 0, 3]])
    return img


def encode(img: np.ndarray, quality: int = ncd.DEFAULT_QUALITY, **options) -> np.ndarray:
    """Encodes a BGR, BGRA or gray uint8 array; returns the file as a 1-D uint8 array."""
    try:
        data = ncd.encode(_to_rgb_order(img), quality=quality, **options)
    except ncd.NCDError as exc:
        raise _error()(str(exc)) from exc
    return np.frombuffer(data, dtype=np.uint8)


def _as_bytes(buf) -> bytes:
    if isinstance(buf, (bytes, bytearray, memoryview)):
        return bytes(buf)
    arr = np.asarray(buf)
    if arr.dtype != np.uint8:
        raise _error()(f"buffer must be uint8, got {arr.dtype}")
    return arr.tobytes()


def decode(buf, flags: int = IMREAD_COLOR, **options) -> np.ndarray:
    """Decodes ``.ncd`` data: BGR by default, gray with IMREAD_GRAYSCALE, the stored
    channels (gray, BGR or BGRA) with IMREAD_UNCHANGED / IMREAD_ANYCOLOR, RGB with
    IMREAD_COLOR_RGB.  ``options`` are ncdiff's decode options (decoder, steps, device, seed)."""
    try:
        img = ncd.decode(_as_bytes(buf), **options)
    except ncd.NCDError as exc:
        raise _error()(str(exc)) from exc
    if flags == IMREAD_GRAYSCALE:
        return np.asarray(img.convert("L"))
    if flags == IMREAD_COLOR_RGB:
        return np.asarray(img.convert("RGB"))
    if flags in (IMREAD_UNCHANGED, IMREAD_ANYCOLOR) and img.mode == "L":
        return np.asarray(img)
    if flags == IMREAD_UNCHANGED and img.mode in ("LA", "RGBA"):
        # As cv2.imread does for gray+alpha PNGs: four channels, BGRA.
        return _to_rgb_order(np.asarray(img.convert("RGBA")))
    return _to_rgb_order(np.asarray(img.convert("RGB")))


def imencode(ext: str, img: np.ndarray, params=None):
    """cv2.imencode's twin: ``(True, buf)`` for ".ncd", cv2.imencode for other extensions.

    ``params`` is cv2's flat list ``[id, value, id, value...]``: IMWRITE_NCD_QUALITY
    (1..100, default 75) and IMWRITE_NCD_CODEC (NCD_CODEC_AUTO / _LEARNED / _JPEG).
    """
    if ext.lower().lstrip(".") != "ncd":
        return _cv2().imencode(ext, img, params if params is not None else [])
    opts = dict(zip(list(params or [])[0::2], list(params or [])[1::2]))
    quality = opts.pop(IMWRITE_NCD_QUALITY, ncd.DEFAULT_QUALITY)
    codec = _CODEC_NAMES.get(opts.pop(IMWRITE_NCD_CODEC, NCD_CODEC_AUTO))
    if codec is None:
        raise _error()("IMWRITE_NCD_CODEC must be NCD_CODEC_AUTO, NCD_CODEC_LEARNED or NCD_CODEC_JPEG")
    return True, encode(img, quality=int(quality), codec=codec)


def imdecode(buf, flags: int = IMREAD_COLOR):
    """cv2.imdecode's twin: ``.ncd`` data decoded here, anything else by cv2.

    Like cv2, it returns ``None`` when the data cannot be decoded.
    """
    from ncdiff_plugin.container import SIGNATURE

    try:
        data = _as_bytes(buf)
    except ncd.NCDError:
        return None
    if not data.startswith(SIGNATURE):
        return _cv2().imdecode(np.frombuffer(data, np.uint8), flags)
    try:
        return decode(data, flags)
    except ncd.NCDError:
        return None

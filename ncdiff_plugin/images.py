"""Bringing user images into the modes the container stores."""

import io
import warnings

from PIL import Image

from .errors import CorruptFileError, UnsupportedModeError

# Modes converted (with a warning) to a stored mode, and modes refused because
# a conversion would silently drop precision.
_CONVERTED = {"1": "L", "P": "RGB", "PA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB",
              "HSV": "RGB", "RGBX": "RGB", "RGBa": "RGBA", "La": "LA"}


def to_pil(img) -> Image.Image:
    """A PIL image from a PIL image or an HxW / HxWx3 / HxWx4 uint8 array (RGB order)."""
    if isinstance(img, Image.Image):
        return img
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy comes with Pillow users
        np = None
    if np is not None and isinstance(img, np.ndarray):
        if img.dtype != np.uint8:
            raise UnsupportedModeError(f"arrays must be uint8, got {img.dtype}")
        if img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 1):
            return Image.fromarray(img.reshape(img.shape[:2]), "L")
        if img.ndim == 3 and img.shape[2] in (3, 4):
            return Image.fromarray(img, "RGB" if img.shape[2] == 3 else "RGBA")
        raise UnsupportedModeError(f"array shape {img.shape} is not HxW, HxWx3 or HxWx4")
    raise TypeError(f"expected a PIL image or a numpy uint8 array, got {type(img).__name__}")


def normalise_mode(img: Image.Image) -> Image.Image:
    """The image in L, LA, RGB or RGBA; warns when it converts, refuses deep modes."""
    if img.mode in ("L", "LA", "RGB", "RGBA"):
        return img
    if img.mode == "P":
        target = "RGBA" if "transparency" in img.info or img.palette.mode == "RGBA" else "RGB"
    else:
        target = _CONVERTED.get(img.mode)
    if target is None:
        raise UnsupportedModeError(
            f"cannot encode mode {img.mode}: ncdiff stores 8-bit L, LA, RGB and RGBA, and converting "
            f"{img.mode} would lose precision; convert the image explicitly first"
        )
    warnings.warn(f"converting mode {img.mode} to {target} for encoding", stacklevel=3)
    return img.convert(target)


def split_alpha(img: Image.Image):
    """(colour image, alpha plane or None)."""
    if img.mode in ("LA", "RGBA"):
        bands = img.split()
        return img.convert(img.mode[:-1]), bands[-1]
    return img, None


def encode_alpha(alpha: Image.Image) -> bytes:
    """Lossless alpha plane: PNG, so decoding it needs only Pillow."""
    buf = io.BytesIO()
    alpha.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def decode_alpha(data: bytes, size) -> Image.Image:
    """The alpha plane, after checking its size before decoding pixels."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as png:
            if png.size != tuple(size) or png.mode != "L":
                raise CorruptFileError(f"alpha plane is {png.mode} {png.size}, expected L {tuple(size)}")
            png.load()
            return png.copy()
    except CorruptFileError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise CorruptFileError(f"alpha plane cannot be decoded: {exc}") from None

"""OpenCV adapter: ``.ncd`` bytes from and to BGR(A) / gray numpy arrays."""

import numpy as np

import ncdiff_plugin as ncd

IMREAD_COLOR, IMREAD_GRAYSCALE, IMREAD_UNCHANGED = 1, 0, -1


def encode(img: np.ndarray, quality: int = 75, **options) -> np.ndarray:
    """Encodes a BGR, BGRA or gray uint8 array; returns a 1-D uint8 buffer."""
    if not isinstance(img, np.ndarray):
        raise ncd.InvalidOptionError(f"expected a numpy array, got {type(img).__name__}")
    if img.ndim == 3 and img.shape[2] == 3:
        img = img[:, :, ::-1]
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, [2, 1, 0, 3]]
    data = ncd.encode(np.ascontiguousarray(img), quality=quality, **options)
    return np.frombuffer(data, dtype=np.uint8)


def decode(buf, flags: int = IMREAD_COLOR, **options) -> np.ndarray:
    """Decodes ``.ncd`` bytes to BGR (default), gray or, with IMREAD_UNCHANGED, the stored channels."""
    img = ncd.decode(bytes(np.asarray(buf, dtype=np.uint8).ravel()) if not isinstance(buf, bytes) else buf, **options)
    if flags == IMREAD_GRAYSCALE:
        return np.asarray(img.convert("L"))
    if flags == IMREAD_UNCHANGED and img.mode in ("L", "RGBA"):
        arr = np.asarray(img)
        return arr if img.mode == "L" else np.ascontiguousarray(arr[:, :, [2, 1, 0, 3]])
    return np.ascontiguousarray(np.asarray(img.convert("RGB"))[:, :, ::-1])

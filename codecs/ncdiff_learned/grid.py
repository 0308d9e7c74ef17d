"""Where the tiles of a large image lie: a grid aligned to the model's stride (no torch here).

A tile is coded on its own (its own hyperprior and rANS streams, see
docs/format.md), so encode and decode hold one tile's activations at a time.
Its latent lies at 1/16 of its pixels; tiles start on multiples of
:data:`STRIDE`, so the latents of all tiles make one latent of the whole
image, the one a single pass would give (up to the hyperprior's context at
tile edges).
"""

import math
from typing import List, Sequence, Tuple

from ncdiff_plugin.errors import CorruptFileError, InvalidOptionError

#: The model's padding: four stride-2 stages to y, two more to z.
STRIDE = 64
#: Pixels per latent position.
LATENT_STRIDE = 16
#: Default tile side in pixels (docs/tiles.md: bpp, time and memory of 512, 768 and 1024).
TILE = 768
#: Largest tile (and largest image coded whole) in pixels after padding: the
#: rANS decoder's buffer bound (``LearnedCodec._padded``) is per tile.
MAX_TILE_PIXELS = 2**21
#: Pixels of context around a tile for the analysis transform: each latent
#: sees 30 pixels beyond its own 16, so the tile's latent is the whole image's.
ANALYSIS_MARGIN = 32

Box = Tuple[int, int, int, int]


def padded(n: int) -> int:
    return -(-n // STRIDE) * STRIDE


def grid(width: int, height: int, tile: int = TILE, offset: int = 0) -> List[Box]:
    """(left, top, width, height) of each tile in raster order; the grid lines
    fall on ``offset + k * tile`` (``offset`` shifts the grid, for seam measurements)."""
    check_tile_size(tile)
    if offset % STRIDE or not 0 <= offset < tile:
        raise InvalidOptionError(f"tile_offset must be a multiple of {STRIDE} in 0..{tile - 1}, got {offset}")

    def cuts(n):
        edges = [0] + list(range(offset or tile, n, tile)) + [n]
        return [(a, b - a) for a, b in zip(edges, edges[1:]) if b > a]

    return [(x, y, w, h) for y, h in cuts(height) for x, w in cuts(width)]


def check_tile_size(tile: int) -> None:
    if isinstance(tile, bool) or not isinstance(tile, int) or tile % STRIDE or not STRIDE <= tile or tile * tile > MAX_TILE_PIXELS:
        raise InvalidOptionError(
            f"tile must be a multiple of {STRIDE} from {STRIDE} to {math.isqrt(MAX_TILE_PIXELS) // STRIDE * STRIDE} pixels, "
            f"got {tile!r}"
        )


def check_layout(boxes: Sequence[Box], width: int, height: int) -> None:
    """Tiles read from a file must start on the stride, end on it or at the image's edge, stay under
    :data:`MAX_TILE_PIXELS` and cover the image exactly once."""
    cols, rows = padded(width) // STRIDE, padded(height) // STRIDE
    covered = bytearray(cols * rows)
    for left, top, w, h in boxes:
        aligned = not (left % STRIDE or top % STRIDE) and (w % STRIDE == 0 or left + w == width) and (
            h % STRIDE == 0 or top + h == height)
        if not aligned or padded(w) * padded(h) > MAX_TILE_PIXELS:
            raise CorruptFileError(f"tile {[left, top, w, h]} is not on the learned codec's {STRIDE}-pixel grid "
                                   f"or is over {MAX_TILE_PIXELS} pixels")
        for r in range(top // STRIDE, (top + padded(h)) // STRIDE):
            row = covered[r * cols + left // STRIDE : r * cols + (left + padded(w)) // STRIDE]
            if any(row):
                raise CorruptFileError(f"tile {[left, top, w, h]} overlaps another tile")
            covered[r * cols + left // STRIDE : r * cols + (left + padded(w)) // STRIDE] = b"\x01" * len(row)
    if not all(covered):
        raise CorruptFileError(f"the tiles do not cover the {width}x{height} image")


def latent_box(box: Box) -> Box:
    """A tile's box in latent positions (its padded pixels / 16)."""
    left, top, w, h = box
    return left // LATENT_STRIDE, top // LATENT_STRIDE, padded(w) // LATENT_STRIDE, padded(h) // LATENT_STRIDE


def grow(box: Box, margin: int, width: int, height: int) -> Box:
    """``box`` with ``margin`` more on each side, clipped to a ``width`` x ``height`` canvas."""
    left, top, w, h = box
    x0, y0 = max(left - margin, 0), max(top - margin, 0)
    x1, y1 = min(left + w + margin, width), min(top + h + margin, height)
    return x0, y0, x1 - x0, y1 - y0


def intersects(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]

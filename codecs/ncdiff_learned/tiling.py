"""Coding an image in tiles (``grid.py`` says where they lie) without showing the grid.

Encode: each tile's latent comes from the analysis transform run on the tile
and :data:`~grid.ANALYSIS_MARGIN` pixels around it, so it is the whole image's
latent; the tile's hyperprior and streams are its own.

Decode: each tile's pixels come from a decoder run on the tile's latent and
``margin`` latent positions of its neighbours' (``decoders.Decoder.margin``),
then cut back to the tile.  A region decode runs the same computation for the
tiles it touches only, so its pixels are exactly those of a full decode.
"""

from dataclasses import replace
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ncdiff_plugin.container import Tile

from .grid import ANALYSIS_MARGIN, LATENT_STRIDE, STRIDE, Box, grow, intersects, latent_box, padded


def window_pixels(pixels: np.ndarray, box: Box, device) -> torch.Tensor:
    """(1, C, h, w) floats in [0, 1] of ``box`` of an H x W x C uint8 array; past the image's right and
    bottom edges its last pixels repeat, as the whole-image padding does."""
    left, top, w, h = box
    part = np.array(pixels[top : top + h, left : left + w])  # a writable copy of the window only
    x = torch.from_numpy(part).to(device).permute(2, 0, 1)[None].float().div_(255.0)
    pad_h, pad_w = h - part.shape[0], w - part.shape[1]
    return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x


def encode_tiles(model, pixels: np.ndarray, quality: int, boxes: List[Box], device) -> List[Tile]:
    """Each tile's rANS streams; ``pixels`` is the H x W x 3 uint8 image."""
    height, width = pixels.shape[:2]
    tiles = []
    for left, top, w, h in boxes:
        window = grow((left, top, padded(w), padded(h)), ANALYSIS_MARGIN, padded(width), padded(height))
        with torch.no_grad():
            y = model.g_a(window_pixels(pixels, window, device))
        lx, ly = (left - window[0]) // LATENT_STRIDE, (top - window[1]) // LATENT_STRIDE
        y = y[..., ly : ly + padded(h) // LATENT_STRIDE, lx : lx + padded(w) // LATENT_STRIDE]
        strings, _ = model.compress_latent(y.contiguous(), quality)
        tiles.append(Tile(left, top, w, h, strings))
    return tiles


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(3, h, w) in [0, 1] -> h x w x 3 uint8, rounded."""
    return (x.permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)


class LatentMosaic:
    """The tiles' latents as one latent: each tile entropy-decoded when a window first needs it and
    dropped after the last window that needs it (tiles are visited in raster order)."""

    def __init__(self, tiles: List[Tile], width: int, height: int, decode_tile: Callable[[Tile], torch.Tensor]):
        self.tiles, self.decode_tile = tiles, decode_tile
        self.cols = padded(width) // STRIDE
        # Which tile owns each STRIDE x STRIDE cell: finding a window's tiles is then a lookup.
        self.owner = np.zeros((padded(height) // STRIDE, self.cols), dtype=np.int64)
        for i, t in enumerate(tiles):
            self.owner[t.top // STRIDE : (t.top + padded(t.height)) // STRIDE,
                       t.left // STRIDE : (t.left + padded(t.width)) // STRIDE] = i
        self.cache: Dict[int, torch.Tensor] = {}
        self.last_use: Dict[int, int] = {}

    def tiles_under(self, window: Box) -> List[int]:
        """Indexes of the tiles under a window given in latent positions."""
        per_cell = STRIDE // LATENT_STRIDE
        x0, y0, w, h = window
        cells = self.owner[y0 // per_cell : -(-(y0 + h) // per_cell), x0 // per_cell : -(-(x0 + w) // per_cell)]
        return sorted(set(cells.ravel().tolist()))

    def plan(self, windows: List[Box]) -> None:
        """Records when each tile is needed for the last time, for windows visited in this order."""
        for order, window in enumerate(windows):
            for j in self.tiles_under(window):
                self.last_use[j] = order

    def window(self, window: Box) -> torch.Tensor:
        x0, y0, w, h = window
        out = None
        for j in self.tiles_under(window):
            if j not in self.cache:
                self.cache[j] = self.decode_tile(self.tiles[j])
            y = self.cache[j]
            if out is None:
                out = y.new_zeros((1, y.shape[1], h, w))
            tx, ty, tw, th = latent_box(self.tiles[j].box)
            ax, ay = max(tx, x0), max(ty, y0)
            bx, by = min(tx + tw, x0 + w), min(ty + th, y0 + h)
            out[..., ay - y0 : by - y0, ax - x0 : bx - x0] = y[..., ay - ty : by - ty, ax - tx : bx - tx]
        return out

    def done(self, order: int) -> None:
        for j in [j for j in self.cache if self.last_use.get(j, -1) <= order]:
            del self.cache[j]


def decode_tiles(tiles: List[Tile], header, decode_tile: Callable[[Tile], torch.Tensor], decode_window: Callable,
                 margin: int, region: Optional[Box] = None, batch: int = 1) -> np.ndarray:
    """The h x w x 3 uint8 pixels of ``region`` (default: the whole image) of a tiled frame.

    ``decode_tile(tile)`` entropy-decodes one tile's latent; ``decode_window(y_hat, header, origin)``
    turns a batch of latent windows into pixels (``origin``: the window's top-left pixel).
    """
    width, height = header.width, header.height
    region = region or (0, 0, width, height)
    rx, ry, rw, rh = region
    wanted = [t for t in tiles if intersects(t.box, region)]
    lw, lh = padded(width) // LATENT_STRIDE, padded(height) // LATENT_STRIDE
    windows = [grow(latent_box(t.box), margin, lw, lh) for t in wanted]
    mosaic = LatentMosaic(tiles, width, height, decode_tile)
    mosaic.plan(windows)
    out = np.empty((rh, rw, 3), dtype=np.uint8)
    start = 0
    while start < len(wanted):
        # A batch: consecutive windows of one shape (interior tiles on a GPU).
        end = start + 1
        while end < len(wanted) and end - start < batch and windows[end][2:] == windows[start][2:]:
            end += 1
        ys = torch.cat([mosaic.window(w) for w in windows[start:end]])
        x0, y0, w, h = windows[start]
        pixels = decode_window(ys, replace(header, width=w * LATENT_STRIDE, height=h * LATENT_STRIDE),
                               [(wy * LATENT_STRIDE, wx * LATENT_STRIDE) for wx, wy, _, _ in windows[start:end]])
        for k in range(start, end):
            tile, (wx, wy, _, _) = wanted[k], windows[k]
            # The part of the tile inside the region, in image pixels.
            ax, ay = max(tile.left, rx), max(tile.top, ry)
            bx, by = min(tile.left + tile.width, rx + rw), min(tile.top + tile.height, ry + rh)
            ox, oy = wx * LATENT_STRIDE, wy * LATENT_STRIDE
            out[ay - ry : by - ry, ax - rx : bx - rx] = to_uint8(pixels[k - start, :, ay - oy : by - oy, ax - ox : bx - ox])
        mosaic.done(end - 1)
        start = end
    return out

"""Starting noise tied to image positions, so a tile decoded alone starts from the noise the whole image would."""

import torch

#: Noise is drawn per CELL x CELL block of the image, each block from its own seed.
CELL = 64


def positional_noise(shape, origins, seed: int, device, dtype=torch.float32) -> torch.Tensor:
    """(B, C, H, W) standard normal noise; item k covers the pixels from ``origins[k]`` = (top, left).

    The same (seed, pixel) gives the same value whatever the window, the batch
    or the device (drawn on the CPU), so tiles' windows agree where they overlap.
    """
    b, c, h, w = shape
    out = torch.empty((b, c, h, w))
    for k, (top, left) in enumerate(origins):
        for cy in range(top // CELL, (top + h - 1) // CELL + 1):
            for cx in range(left // CELL, (left + w - 1) // CELL + 1):
                g = torch.Generator().manual_seed(((int(seed) * 1_000_003 + cy) * 1_000_033 + cx) % 2**63)
                block = torch.randn((c, CELL, CELL), generator=g)
                y0, x0 = cy * CELL - top, cx * CELL - left
                ay, ax = max(y0, 0), max(x0, 0)
                by, bx = min(y0 + CELL, h), min(x0 + CELL, w)
                out[k, :, ay:by, ax:bx] = block[:, ay - y0 : by - y0, ax - x0 : bx - x0]
    return out.to(device=device, dtype=dtype)

"""The learned codec as an ncdiff codec: lazy model, verified weights."""

import importlib.util
import os
import sys
import threading
import weakref
from typing import Mapping, Optional, Tuple

from PIL import Image

from ncdiff_plugin.codec import Codec
from ncdiff_plugin.container import Tile
from ncdiff_plugin.errors import CorruptFileError, ImageTooLargeError, InvalidOptionError, WeightsMismatchError

from .decoders import DECODERS
from .forksafe import fork_safe
from .grid import MAX_TILE_PIXELS, TILE, check_layout, check_tile_size, grid, padded
from .weights import BASE_WEIGHTS

#: Every codec object, so a forked child can give each fresh per-process state.
_INSTANCES = weakref.WeakSet()


class LearnedCodec(Codec):
    id = "learned"
    plugin = "ncdiff"
    description = "learned transform codec (hyperprior, checkerboard context, quantisation-step rate control)"
    modes = ("L", "RGB")
    #: Frames are coded in tiles (``grid.py``), so any size the bomb guard
    #: (``ncdiff_plugin.options``) lets through is coded, and ``decode`` takes a ``region``.
    tiled = True
    #: An rANS stream starts with the coder's 8-byte state.
    MIN_STREAM_BYTES = 8

    def __init__(self, weights_path: str = BASE_WEIGHTS, decoder_weights: Optional[Mapping[str, str]] = None):
        """``decoder_weights`` replaces the shipped weights of some decoders, e.g. ``{"nc": path}``."""
        self.weights_path = weights_path
        #: Weights of each decoder that has a network of its own (see ``decoders.DECODERS``).
        self.decoder_weights = {name: d.weights for name, d in DECODERS.items() if d.weights}
        self.decoder_weights.update(decoder_weights or {})
        self._lock = threading.RLock()
        self._model = None
        self._metadata = None
        self._digest = None
        self._networks = {}
        self._cuda_lost = False
        _INSTANCES.add(self)

    def _after_fork(self):
        """Per-process state in a forked child: a fresh lock, and no models on a device the child cannot use."""
        self._lock = threading.RLock()
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_initialized():
            # CUDA does not survive fork: the child reloads onto the CPU.
            self._cuda_lost = True
            self._model, self._metadata, self._digest, self._networks = None, None, None, {}

    @property
    def decoders(self):
        """The decoders of ``decoders.DECODERS`` whose weights are installed ("base" first, always)."""
        return tuple(name for name in DECODERS
                     if name not in self.decoder_weights or os.path.exists(self.decoder_weights[name]))

    def decoder_steps(self, decoder: str) -> Optional[Tuple[int, int]]:
        entry = DECODERS.get(decoder)
        return entry.steps if entry else None

    def unavailable_reason(self):
        for module in ("torch", "compressai", "safetensors"):
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed"
        if not os.path.exists(self.weights_path):
            return f"weights file {self.weights_path} is missing"
        return None

    def _load(self):
        with self._lock:
            if self._model is None:
                from .weights import load_inference_model

                self._model, self._metadata, self._digest = load_inference_model(self.weights_path)
            return self._model

    @fork_safe
    def model_info(self):
        self._load()
        return self._metadata["model_id"], self._digest

    def _device(self, device):
        import torch

        if device is None:
            return torch.device("cuda" if torch.cuda.is_available() and not self._cuda_lost else "cpu")
        return torch.device(device)

    @fork_safe
    def encode(self, image: Image.Image, quality: int, device=None, tile=None, tile_offset=0, **options):
        """The three rANS streams of an image coded whole, or a list of ``container.Tile``.

        ``tile``: the tile side in pixels (a multiple of 64, default ``grid.TILE``);
        images that fit in one tile are coded whole, ``tile=0`` codes every image
        whole (up to ``grid.MAX_TILE_PIXELS``).  ``tile_offset`` shifts the grid
        (seam measurements).
        """
        import numpy as np
        import torch

        from .tiling import encode_tiles

        tile = TILE if tile is None else tile
        if tile != 0:
            check_tile_size(tile)
        width, height = image.size
        model = self._load()
        dev = self._device(device)
        pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        with self._lock:
            model.to(dev)
            if tile == 0 or (width <= tile and height <= tile and not tile_offset):
                self._check_whole(width, height)
                x = torch.from_numpy(np.array(pixels)).permute(2, 0, 1)[None].to(dev).float().div_(255.0)
                return model.compress(x, quality)[0]
            return encode_tiles(model, pixels, quality, grid(width, height, tile, tile_offset), dev)

    @staticmethod
    def _check_whole(width: int, height: int) -> None:
        if padded(width) * padded(height) > MAX_TILE_PIXELS:
            raise ImageTooLargeError(
                f"{width}x{height} is over the {MAX_TILE_PIXELS} pixels the learned codec codes whole: "
                "code it in tiles (leave tile unset)"
            )

    @fork_safe
    def check_header(self, header):
        self._load()
        if header.weights_hash != self._digest or header.model_id != self._metadata["model_id"]:
            raise WeightsMismatchError(
                f"the file was encoded with model {header.model_id!r} (weights sha256 "
                f"{header.weights_hash.hex()[:16]}...), but the installed weights are "
                f"{self._metadata['model_id']!r} ({self._digest.hex()[:16]}...): install the matching ncdiff version"
            )

    @fork_safe
    def decode_latent(self, payloads, header, device=None):
        """The transmitted latent y_hat of one frame coded whole."""
        self.check_header(header)
        self._check_whole(header.width, header.height)
        return self._entropy_decode(payloads, header.width, header.height, header.quality, self._device(device))

    def _entropy_decode(self, payloads, width: int, height: int, quality: int, dev):
        """y_hat of the streams of an image (or a tile) of this size."""
        if len(payloads) != 3:
            raise CorruptFileError(f"a learned frame or tile has 3 payload streams, found {len(payloads)}")
        if any(len(p) < self.MIN_STREAM_BYTES for p in payloads):
            raise CorruptFileError("a learned payload stream is shorter than the rANS state")
        model = self._load()
        with self._lock:
            model.to(dev)
            return model.decompress_latent(self._padded(model, payloads, width, height), height, width, quality, dev)

    @staticmethod
    def _padded(model, payloads, width: int, height: int):
        """The streams followed by enough zero bytes for any read the rANS decoder can make.

        CompressAI's decoder does not check where a stream ends.  Each symbol
        reads at most 8 bytes once the stream is exhausted (zero words end every
        bypass run), and escape runs in garbage can read up to 15x the stream's
        own length: with this padding a forged stream decodes to garbage, never
        past its buffer.
        """
        (yh, yw), (zh, zw) = model.latent_shapes(height, width)
        symbols = (model.M * yh * (yw // 2), model.M * yh * (yw - yw // 2), model.N * zh * zw)
        return [p + bytes(16 * len(p) + 8 * n + 64) for p, n in zip(payloads, symbols)]

    def _load_network(self, decoder: str):
        """(network, metadata) of a decoder with weights of its own, checked against the installed base weights."""
        with self._lock:
            if decoder not in self._networks:
                from .weights import load_network

                base_digest = self.model_info()[1]
                net, metadata, _ = load_network(self.decoder_weights[decoder], DECODERS[decoder].network)
                if metadata.get("base_sha256") != base_digest.hex():
                    raise WeightsMismatchError(
                        f"the installed {decoder} decoder {metadata.get('model_id')!r} was trained for other base weights"
                    )
                self._networks[decoder] = (net, metadata)
            return self._networks[decoder]

    def decode(self, payloads, header, **options):
        return self.decode_batch([payloads], header, **options)[0]

    @fork_safe
    def decode_batch(self, frames, header, decoder=None, steps=None, device=None, seed=None, batch=8, region=None,
                     **options):
        """Entropy-decodes each frame's latent, then turns it into pixels with ``decoder``, in batches.

        ``decoder``: one of :attr:`decoders` (:data:`decoders.DECODERS` says what
        each is); ``steps`` of a decoder that walks steps; ``region``
        (left, top, width, height) decodes only the tiles under it; the other
        options go to the decoder's ``decode`` (nc: ``kappa``, ``guidance``,
        ``freq_filter``; cdc: ``eta``, ``gamma``).
        """
        import torch

        from .tiling import to_uint8

        decoder = decoder or "base"
        if decoder not in self.decoders:
            raise InvalidOptionError(f"unknown decoder {decoder!r} for the learned codec; choose from {', '.join(self.decoders)}")
        entry = DECODERS[decoder]
        steps = _steps(steps, *entry.steps) if entry.steps else None
        dev = self._device(device)
        # Batching pays on a GPU; on a CPU it only multiplies the memory held.
        batch = batch if dev.type == "cuda" else 1

        def decode_window(y_hat, window_header, origins):
            with self._lock:
                model = self._load()
                net, metadata = self._load_network(decoder) if entry.weights else (None, None)
                with torch.no_grad():
                    return entry.decode(model, net, metadata, y_hat, window_header, dev, steps=steps, seed=seed,
                                        origins=origins, **options)

        images = [None] * len(frames)
        whole = []
        for i, payloads in enumerate(frames):
            if payloads and isinstance(payloads[0], Tile):
                images[i] = self._decode_tiled(payloads, header, decode_window, entry.margin, region, batch, dev)
            else:
                whole.append(i)
        for start in range(0, len(whole), batch):
            part = whole[start : start + batch]
            y_hat = torch.cat([self.decode_latent(frames[i], header, dev) for i in part])
            for i, x in zip(part, decode_window(y_hat, header, [(0, 0)] * len(part))):
                img = to_uint8(x)
                if region is not None:
                    left, top, w, h = region
                    img = img[top : top + h, left : left + w]
                images[i] = img
        return [_image(arr, header.mode) for arr in images]

    def _decode_tiled(self, tiles, header, decode_window, margin, region, batch, dev):
        from .tiling import decode_tiles

        self.check_header(header)
        check_layout([t.box for t in tiles], header.width, header.height)

        def decode_tile(tile):
            return self._entropy_decode(tile.payloads, tile.width, tile.height, header.quality, dev)

        return decode_tiles(tiles, header, decode_tile, decode_window, margin, region, batch)


def _image(arr, mode: str) -> Image.Image:
    img = Image.fromarray(arr, "RGB")
    return img.convert("L") if mode in ("L", "LA") else img


def _steps(steps, default: int, largest: int) -> int:
    steps = default if steps is None else int(steps)
    if not 1 <= steps <= largest:
        raise InvalidOptionError(f"steps must be in 1..{largest}, got {steps}")
    return steps


def _after_fork_in_child():
    for codec in list(_INSTANCES):
        codec._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)

CODEC = LearnedCodec()

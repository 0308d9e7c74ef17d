"""The learned codec as an ncdiff codec: lazy model, verified weights."""

import importlib.util
import os
import sys
import threading
import weakref
from typing import Mapping, Optional, Tuple

from PIL import Image

from ncdiff_plugin.codec import Codec
from ncdiff_plugin.errors import CorruptFileError, ImageTooLargeError, InvalidOptionError, WeightsMismatchError

from .decoders import DECODERS
from .forksafe import fork_safe
from .weights import BASE_WEIGHTS

#: Every codec object, so a forked child can give each fresh per-process state.
_INSTANCES = weakref.WeakSet()


class LearnedCodec(Codec):
    id = "learned"
    plugin = "ncdiff"
    description = "learned transform codec (hyperprior, checkerboard context, quantisation-step rate control)"
    modes = ("L", "RGB")
    #: Largest image the learned codec takes, counted after padding to the
    #: latent stride (1920x1080 fits): its transforms hold full-resolution
    #: activations (about 1 GB a layer here) and a CPU decode takes seconds.
    #: Larger images go to JPEG under codec="auto".
    max_pixels = 2**21
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
                from .weights import load_model

                self._model, self._metadata, self._digest = load_model(self.weights_path)
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
    def encode(self, image: Image.Image, quality: int, device=None, **options):
        import numpy as np
        import torch

        self.check_size(*image.size)
        model = self._load()
        dev = self._device(device)
        arr = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        x = torch.from_numpy(arr).permute(2, 0, 1)[None].to(dev)
        with self._lock:
            model.to(dev)
            strings, _ = model.compress(x, quality)
        return strings

    def fits(self, width: int, height: int) -> bool:
        stride = 64  # the model's padding (models.gained_checkerboard.STRIDE)
        return -(-width // stride) * stride * -(-height // stride) * stride <= self.max_pixels

    def check_size(self, width: int, height: int) -> None:
        if not self.fits(width, height):
            raise ImageTooLargeError(
                f"{width}x{height} is over the learned codec's limit of {self.max_pixels} pixels after padding "
                "(LearnedCodec.max_pixels); use codec='jpeg' for such images"
            )

    @fork_safe
    def check_header(self, header):
        self.check_size(header.width, header.height)
        self._load()
        if header.weights_hash != self._digest or header.model_id != self._metadata["model_id"]:
            raise WeightsMismatchError(
                f"the file was encoded with model {header.model_id!r} (weights sha256 "
                f"{header.weights_hash.hex()[:16]}...), but the installed weights are "
                f"{self._metadata['model_id']!r} ({self._digest.hex()[:16]}...): install the matching ncdiff version"
            )

    @fork_safe
    def decode_latent(self, payloads, header, device=None):
        """The transmitted latent y_hat of one frame."""
        if len(payloads) != 3:
            raise CorruptFileError(f"a learned frame has 3 payload streams, found {len(payloads)}")
        self.check_header(header)
        if any(len(p) < self.MIN_STREAM_BYTES for p in payloads):
            raise CorruptFileError("a learned payload stream is shorter than the rANS state")
        model = self._load()
        dev = self._device(device)
        with self._lock:
            model.to(dev)
            return model.decompress_latent(self._padded(model, payloads, header), header.height, header.width,
                                           header.quality, dev)

    @staticmethod
    def _padded(model, payloads, header):
        """The streams followed by enough zero bytes for any read the rANS decoder can make.

        CompressAI's decoder does not check where a stream ends.  Each symbol
        reads at most 8 bytes once the stream is exhausted (zero words end every
        bypass run), and escape runs in garbage can read up to 15x the stream's
        own length: with this padding a forged stream decodes to garbage, never
        past its buffer.
        """
        (yh, yw), (zh, zw) = model.latent_shapes(header.height, header.width)
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
    def decode_batch(self, frames, header, decoder=None, steps=None, device=None, seed=None, batch=8, **options):
        """Entropy-decodes each frame's latent, then turns it into pixels with ``decoder``, in batches.

        ``decoder``: one of :attr:`decoders` (:data:`decoders.DECODERS` says what
        each is); ``steps`` of a decoder that walks steps; the other options go to
        the decoder's ``decode`` (nc: ``kappa``, ``guidance``, ``freq_filter``;
        cdc: ``kappa``, ``gamma``).
        """
        import numpy as np
        import torch

        decoder = decoder or "base"
        if decoder not in self.decoders:
            raise InvalidOptionError(f"unknown decoder {decoder!r} for the learned codec; choose from {', '.join(self.decoders)}")
        entry = DECODERS[decoder]
        steps = _steps(steps, *entry.steps) if entry.steps else None
        dev = self._device(device)
        # Batching pays on a GPU; on a CPU it only multiplies the memory held.
        batch = batch if dev.type == "cuda" else 1
        images = []
        for start in range(0, len(frames), batch):
            y_hat = torch.cat([self.decode_latent(p, header, dev) for p in frames[start : start + batch]])
            with self._lock:
                model = self._load()
                net, metadata = self._load_network(decoder) if entry.weights else (None, None)
                with torch.no_grad():
                    x = entry.decode(model, net, metadata, y_hat, header, dev, steps=steps, seed=seed, **options)
            for frame in x:
                arr = (frame.permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
                img = Image.fromarray(arr, "RGB")
                images.append(img.convert("L") if header.mode in ("L", "LA") else img)
        return images


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

"""The learned codec as an ncdiff codec: lazy model, verified weights."""

import importlib.util
import os
import threading

from PIL import Image

from ncdiff_plugin.codec import Codec
from ncdiff_plugin.errors import CorruptFileError, InvalidOptionError, WeightsMismatchError

from .weights import BASE_WEIGHTS


class LearnedCodec(Codec):
    id = "learned"
    plugin = "ncdiff"
    description = "learned transform codec (hyperprior, checkerboard context, gain units)"
    modes = ("L", "RGB")
    decoders = ("base",)

    def __init__(self, weights_path: str = BASE_WEIGHTS):
        self.weights_path = weights_path
        self._lock = threading.RLock()
        self._model = None
        self._metadata = None
        self._digest = None

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

    def model_info(self):
        self._load()
        return self._metadata["model_id"], self._digest

    @staticmethod
    def _device(device):
        import torch

        if device is None:
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(device)

    def encode(self, image: Image.Image, quality: int, device=None, **options):
        import numpy as np
        import torch

        model = self._load()
        dev = self._device(device)
        arr = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        x = torch.from_numpy(arr).permute(2, 0, 1)[None].to(dev)
        with self._lock:
            model.to(dev)
            strings, _ = model.compress(x, quality)
        return strings

    def check_header(self, header):
        self._load()
        if header.weights_hash != self._digest or header.model_id != self._metadata["model_id"]:
            raise WeightsMismatchError(
                f"the file was encoded with model {header.model_id!r} (weights sha256 "
                f"{header.weights_hash.hex()[:16]}...), but the installed weights are "
                f"{self._metadata['model_id']!r} ({self._digest.hex()[:16]}...): install the matching ncdiff version"
            )

    def decode_latent(self, payloads, header, device=None):
        """The transmitted latent y_hat of one frame."""
        if len(payloads) != 3:
            raise CorruptFileError(f"a learned frame has 3 payload streams, found {len(payloads)}")
        self.check_header(header)
        model = self._load()
        dev = self._device(device)
        with self._lock:
            model.to(dev)
            return model.decompress_latent(payloads, header.height, header.width, header.quality, dev)

    def decode(self, payloads, header, decoder=None, steps=None, device=None, seed=None, **options):
        import numpy as np

        if decoder not in (None, "base"):
            raise InvalidOptionError(f"unknown decoder {decoder!r} for the learned codec; choose from {', '.join(self.decoders)}")
        y_hat = self.decode_latent(payloads, header, device)
        model = self._load()
        with self._lock:
            x = model.synthesize(y_hat, header.height, header.width)
        arr = (x[0].permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
        img = Image.fromarray(arr, "RGB")
        return img.convert("L") if header.mode in ("L", "LA") else img


CODEC = LearnedCodec()

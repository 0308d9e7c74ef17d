"""The learned codec as an ncdiff codec: lazy model, verified weights."""

import importlib.util
import os
import threading

from PIL import Image

from ncdiff_plugin.codec import Codec
from ncdiff_plugin.errors import CorruptFileError, ImageTooLargeError, InvalidOptionError, WeightsMismatchError

from .weights import BASE_WEIGHTS, CDC_WEIGHTS, NC_WEIGHTS


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

    def __init__(self, weights_path: str = BASE_WEIGHTS, nc_weights_path: str = NC_WEIGHTS,
                 cdc_weights_path: str = CDC_WEIGHTS):
        self.weights_path = weights_path
        self.nc_weights_path = nc_weights_path
        self.cdc_weights_path = cdc_weights_path
        self._lock = threading.RLock()
        self._model = None
        self._metadata = None
        self._digest = None
        self._unets = {}

    @property
    def decoders(self):
        """"base" always; "nc" and "cdc" when their weights are installed."""
        extra = tuple(name for name, path in (("nc", self.nc_weights_path), ("cdc", self.cdc_weights_path))
                      if os.path.exists(path))
        return ("base",) + extra

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

    def check_header(self, header):
        self.check_size(header.width, header.height)
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

    def _load_unet(self, decoder: str):
        """(U-Net, metadata) of a diffusion decoder, checked against the installed base weights."""
        with self._lock:
            if decoder not in self._unets:
                from . import weights

                base_digest = self.model_info()[1]
                path = getattr(self, f"{decoder}_weights_path")
                unet, metadata, _ = getattr(weights, f"load_{decoder}")(path)
                if metadata.get("base_sha256") != base_digest.hex():
                    raise WeightsMismatchError(
                        f"the installed {decoder} decoder {metadata.get('model_id')!r} was trained for other base weights"
                    )
                self._unets[decoder] = (unet, metadata)
            return self._unets[decoder]

    def decode(self, payloads, header, **options):
        return self.decode_batch([payloads], header, **options)[0]

    def decode_batch(self, frames, header, decoder=None, steps=None, device=None, seed=None,
                     kappa=None, guidance=0.0, gamma=None, freq_filter=True, batch=8, **options):
        """Entropy-decodes each frame's latent, then synthesises (and restores) in batches.

        ``decoder``: "base", "nc" or "cdc"; ``steps`` of the diffusion decoders;
        ``kappa``: fresh noise per step (nc: the noise-constrained path's scale,
        cdc: DDIM's eta; 0 = deterministic); ``guidance`` (nc): latent-consistency
        step; ``gamma`` (cdc): scale of the starting noise; ``freq_filter`` (nc):
        False bypasses the trained frequency filters (for the ablation).
        """
        import numpy as np
        import torch

        decoder = decoder or "base"
        if decoder not in self.decoders:
            raise InvalidOptionError(f"unknown decoder {decoder!r} for the learned codec; choose from {', '.join(self.decoders)}")
        dev = self._device(device)
        # Batching pays on a GPU; on a CPU it only multiplies the memory held.
        batch = batch if dev.type == "cuda" else 1
        images = []
        for start in range(0, len(frames), batch):
            y_hat = torch.cat([self.decode_latent(p, header, dev) for p in frames[start : start + batch]])
            with self._lock:
                model = self._load()
                if decoder == "base":
                    x = model.synthesize(y_hat, header.height, header.width)
                elif decoder == "nc":
                    x = self._restore_nc(model, y_hat, header, dev, steps, seed, kappa, guidance, freq_filter)
                else:
                    x = self._restore_cdc(model, y_hat, header, dev, steps, seed, kappa, gamma)
            for frame in x:
                arr = (frame.permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
                img = Image.fromarray(arr, "RGB")
                images.append(img.convert("L") if header.mode in ("L", "LA") else img)
        return images

    def _restore_nc(self, model, y_hat, header, dev, steps, seed, kappa, guidance, freq_filter):
        import torch

        from .diffusion.guidance import latent_consistency_guide
        from .diffusion.nc import DEFAULT_STEPS, MAX_STEPS, nc_restore
        from .rate import level_for_quality

        steps = _steps(steps, DEFAULT_STEPS, MAX_STEPS)
        unet, metadata = self._load_unet("nc")
        unet.to(dev)
        kappa = 0.0 if kappa is None else float(kappa)
        generator = torch.Generator(dev).manual_seed(0 if seed is None else int(seed))
        guide = None
        if guidance:
            scale = model.quantization_scale(header.quality, dev)
            guide = latent_consistency_guide(model.g_a, y_hat, scale, float(guidance))
        with torch.no_grad():
            x_base = model.g_s(y_hat).clamp_(0, 1)
            x = nc_restore(unet, y_hat, x_base, level_for_quality(header.quality), steps=steps,
                           power=float(metadata["eta_power"]), kappa=kappa, generator=generator, guide=guide,
                           freq_filter=bool(freq_filter))
        return x[..., : header.height, : header.width]

    def _restore_cdc(self, model, y_hat, header, dev, steps, seed, kappa, gamma):
        import torch

        from .diffusion.cdc import DEFAULT_GAMMA, DEFAULT_STEPS, MAX_STEPS, cdc_restore
        from .rate import level_for_quality

        steps = _steps(steps, DEFAULT_STEPS, MAX_STEPS)
        gamma = DEFAULT_GAMMA if gamma is None else float(gamma)
        if not 0.0 <= gamma <= 2.0:
            raise InvalidOptionError(f"gamma (the starting noise scale) must be in 0..2, got {gamma}")
        unet, _ = self._load_unet("cdc")
        unet.to(dev)
        generator = torch.Generator(dev).manual_seed(0 if seed is None else int(seed))
        with torch.no_grad():
            features, _ = model.synthesis_features(y_hat)
            x = cdc_restore(unet, features, (y_hat.shape[0], 3, *(16 * n for n in y_hat.shape[-2:])),
                            level_for_quality(header.quality), steps=steps, gamma=gamma,
                            kappa=0.0 if kappa is None else float(kappa), generator=generator)
        return x[..., : header.height, : header.width]


def _steps(steps, default: int, largest: int) -> int:
    steps = default if steps is None else int(steps)
    if not 1 <= steps <= largest:
        raise InvalidOptionError(f"steps must be in 1..{largest}, got {steps}")
    return steps


CODEC = LearnedCodec()

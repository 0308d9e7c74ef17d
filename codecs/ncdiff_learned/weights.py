"""Shipped weights: location, hash, loading (safetensors only, never pickle)."""

import hashlib
import json
import os

WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), "weights")
BASE_WEIGHTS = os.path.join(WEIGHTS_DIR, "base.safetensors")
# A model card's key for its Kodak points (written by ``ncd bench --card``, kept in the history).
CARD_POINTS = "points (quality, bpp, PSNR dB, MS-SSIM)"


def write_card(path: str, card: dict) -> None:
    """Writes a model card (the .json beside its weights) atomically: a crash keeps the old one."""
    from ncdiff_plugin.files import write_bytes

    write_bytes(path, (json.dumps(card, indent=2) + "\n").encode("utf-8"))


def read_weights(path: str):
    """(raw bytes, sha256 digest) of a weights file, read once so both agree."""
    with open(path, "rb") as f:
        raw = f.read()
    return raw, hashlib.sha256(raw).digest()


def _metadata(raw: bytes) -> dict:
    header_len = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8 : 8 + header_len]).get("__metadata__", {})


def _float32(raw: bytes) -> dict:
    """The tensors of a weights file, fp16 ones widened to fp32 (integer tables kept)."""
    import torch
    from safetensors.torch import load as load_safetensors

    return {k: v.float() if v.dtype == torch.float16 else v for k, v in load_safetensors(raw).items()}


def load_network(path: str, network):
    """(a decoder's network in eval mode, metadata dict, sha256 digest); ``network(**config)`` builds it
    from the configuration stored in the weights."""
    raw, digest = read_weights(path)
    metadata = _metadata(raw)
    config = json.loads(metadata["unet"])
    net = network(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})
    net.load_state_dict(_float32(raw))
    net.eval()
    return net, metadata, digest


def load_inference_model(path: str = BASE_WEIGHTS):
    """(model for coding, metadata dict, sha256 digest): the shipped architecture through
    ``runtime`` (no CompressAI package import: a fast cold start), others as :func:`load_model`."""
    from . import runtime

    raw, digest = read_weights(path)
    metadata = _metadata(raw)
    if metadata.get("architecture") != runtime.ARCHITECTURE:
        return load_model(path)
    return runtime.build(metadata, _float32(raw)), metadata, digest


def load_model(path: str = BASE_WEIGHTS):
    """(training model in eval mode, metadata dict, sha256 digest)."""
    from .models import ARCHITECTURES

    raw, digest = read_weights(path)
    metadata = _metadata(raw)
    state = _float32(raw)
    cls = ARCHITECTURES[metadata.get("architecture", "GainedCheckerboardHyperprior")]
    model = cls(N=int(metadata["N"]), M=int(metadata["M"]), levels=int(metadata["levels"]))
    for key, value in model.state_dict().items():
        if key.endswith(".mask"):
            state.setdefault(key, value)  # constants of the architecture, not shipped
    model.load_state_dict(state)
    model.eval()
    return model, metadata, digest

"""Exports a training checkpoint as shipped fp16 safetensors weights + model card."""

import datetime
import json
import os

import torch
from safetensors.torch import save_file

from ncdiff_plugin.files import atomic_output

from .models import GainedCheckerboardHyperprior
from .training.checkpoint import load_checkpoint
from .weights import BASE_WEIGHTS, CDC_WEIGHTS, NC_WEIGHTS, read_weights


def _config(ckpt_path: str) -> dict:
    """The training arguments recorded in a checkpoint."""
    from safetensors import safe_open

    with safe_open(ckpt_path, "pt") as f:
        return json.loads(f.metadata()["meta"])["config"]


def _save(tensors: dict, out_path: str, metadata: dict) -> bytes:
    """Writes weights atomically; returns their sha256 digest."""
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with atomic_output(out_path) as tmp:
        save_file(tensors, tmp, metadata=metadata)
    return read_weights(out_path)[1]


def export_base(ckpt_path: str, out_path: str = BASE_WEIGHTS, data: str = "") -> str:
    config = _config(ckpt_path)
    model = GainedCheckerboardHyperprior(N=config.get("N", 128), M=config.get("M", 192))
    meta = _load(ckpt_path, model)
    # Round the parameters to fp16 first, so that the entropy tables computed
    # below belong to the weights actually shipped.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    model.eval()
    model.update(force=True)
    params = {n for n, _ in model.named_parameters()}
    # Masks of masked convolutions are constants of the architecture: not shipped.
    tensors = {
        k: (v.half() if k in params else v).contiguous()
        for k, v in model.state_dict().items()
        if not k.endswith(".mask")
    }
    model_id = "base-" + datetime.date.today().strftime("%Y%m%d") + f"-s{meta['step']}"
    metadata = {"model_id": model_id, "N": str(model.N), "M": str(model.M), "levels": str(model.levels),
                "architecture": "GainedCheckerboardHyperprior"}
    digest = _save(tensors, out_path, metadata)
    _card(out_path, {
        "model_id": model_id,
        "architecture": "mean-scale hyperprior, checkerboard context, gain units (N=%d, M=%d, %d levels)" % (model.N, model.M, model.levels),
        "parameters": sum(p.numel() for p in model.parameters()),
        "file_bytes": os.path.getsize(out_path),
        "sha256": digest.hex(),
        "data": data or meta.get("config", {}).get("data", ""),
        "steps": meta["step"],
        "device": meta.get("device", ""),
        "wall_time_s": round(meta.get("wall_s", 0.0)),
        "recipe": {k: meta.get("config", {}).get(k) for k in ("recipe", "crop", "batch", "lr", "scale", "steps", "time_limit", "bf16")},
        "kodak": None,
    })
    return out_path


def _load(ckpt_path, model):
    # Optimizer state is not needed for export: load model tensors only.
    return load_checkpoint(ckpt_path, model, {})


def _card(path, fields):
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        json.dump(fields, f, indent=2)
        f.write("\n")


def _export_unet(ckpt_path, out_path, unet, name, description, data, metadata, recipe_keys) -> str:
    """fp16 weights of a diffusion decoder's U-Net, tied to the base weights it was trained on."""
    config = _config(ckpt_path)
    meta = _load(ckpt_path, unet)
    tensors = {k: v.half().contiguous() for k, v in unet.state_dict().items()}
    model_id = f"{name}-" + datetime.date.today().strftime("%Y%m%d") + f"-s{meta['step']}"
    metadata = {"model_id": model_id, "unet": json.dumps(unet.config), "base_sha256": config["base_sha256"],
                **{k: str(v) for k, v in metadata.items()}}
    digest = _save(tensors, out_path, metadata)
    _card(out_path, {
        "model_id": model_id, "architecture": f"{description} " + json.dumps(unet.config),
        "parameters": sum(p.numel() for p in unet.parameters()), "file_bytes": os.path.getsize(out_path),
        "sha256": digest.hex(), "base_sha256": config["base_sha256"], "data": data or config.get("data", ""),
        "steps": meta["step"], "device": meta.get("device", ""), "wall_time_s": round(meta.get("wall_s", 0.0)),
        "recipe": {k: config.get(k) for k in ("recipe", "crop", "batch", "lr", "steps", "time_limit", "bf16") + recipe_keys},
        "kodak": None,
    })
    return out_path


def export_nc(ckpt_path: str, out_path: str = NC_WEIGHTS, data: str = "") -> str:
    from .diffusion.unet import NCUNet

    config = _config(ckpt_path)
    unet = NCUNet(freq_filter=not config.get("no_freq_filter", False))
    return _export_unet(ckpt_path, out_path, unet, "nc", "NC-Diffusion x0-predicting U-Net", data,
                        {"eta_power": config["eta_power"], "kappa": config["kappa"]}, ("kappa", "eta_power"))


def export_cdc(ckpt_path: str, out_path: str = CDC_WEIGHTS, data: str = "") -> str:
    from .diffusion.cdc_unet import CDCUNet

    config = _config(ckpt_path)
    return _export_unet(ckpt_path, out_path, CDCUNet(), "cdc", "CDC latent-conditioned x0-predicting U-Net", data,
                        {"snr_gamma": config.get("snr_gamma", 5.0)}, ("snr_gamma",))

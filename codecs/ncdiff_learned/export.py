"""Exports a training checkpoint as shipped fp16 safetensors weights + model card."""

import datetime
import json
import os

import torch
from safetensors.torch import save_file

from .models import GainedCheckerboardHyperprior
from .training.checkpoint import load_checkpoint
from .weights import BASE_WEIGHTS, read_weights


def export_base(ckpt_path: str, out_path: str = BASE_WEIGHTS, data: str = "") -> str:
    model = GainedCheckerboardHyperprior()
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
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    tmp = out_path + ".tmp"
    save_file(tensors, tmp, metadata=metadata)
    os.replace(tmp, out_path)
    _, digest = read_weights(out_path)
    card = {
        "model_id": model_id,
        "architecture": "mean-scale hyperprior, checkerboard context, gain units (N=%d, M=%d, %d levels)" % (model.N, model.M, model.levels),
        "parameters": sum(p.numel() for p in model.parameters()),
        "file_bytes": os.path.getsize(out_path),
        "sha256": digest.hex(),
        "data": data or meta.get("config", {}).get("data", ""),
        "steps": meta["step"],
        "device": meta.get("device", ""),
        "wall_time_s": round(meta.get("wall_s", 0.0)),
        "recipe": {k: meta.get("config", {}).get(k) for k in ("recipe", "crop", "batch", "lr", "scale", "steps", "time_limit")},
        "kodak": None,
    }
    with open(os.path.splitext(out_path)[0] + ".json", "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    return out_path


def _load(ckpt_path, model):
    # Optimizer state is not needed for export: load model tensors only.
    dummy = {}
    return load_checkpoint(ckpt_path, model, dummy)

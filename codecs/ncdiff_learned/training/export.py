"""Exports a training checkpoint as shipped fp16 safetensors weights + model card."""

import datetime
import json
import os

import torch
from safetensors.torch import save_file

from ncdiff_plugin.files import atomic_output

from ..decoders import DECODERS
from ..models import ARCHITECTURES
from ..rate import LAMBDAS
from ..weights import BASE_WEIGHTS, CARD_POINTS, read_weights, write_card
from .checkpoint import load_checkpoint


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
    from .base import ARCH_NAMES

    config = _config(ckpt_path)
    architecture = ARCH_NAMES[config.get("arch", "gain")]
    model = ARCHITECTURES[architecture](N=config.get("N", 128), M=config.get("M", 192))
    # The weight average, where training kept one, is what gets shipped.
    meta = load_checkpoint(ckpt_path, model, {}, prefer_average=True)
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
    config = meta.get("config", {})
    before, steps_total, wall_total = _chain(meta, config)
    model_id = _model_id("base", steps_total)
    metadata = {"model_id": model_id, "N": str(model.N), "M": str(model.M), "levels": str(model.levels),
                "architecture": architecture}
    # The release these weights replace: the card they overwrite, else (a GPU leg exports
    # into an empty folder) the card of the weights they continue.
    previous = _read_card(out_path) or before
    digest = _save(tensors, out_path, metadata)
    rate_control = "quantisation-step scaling" if architecture.startswith("StepScaled") else "gain units"
    _card(out_path, {
        "model_id": model_id,
        "architecture": f"mean-scale hyperprior, checkerboard context, {rate_control} "
                        f"(N={model.N}, M={model.M}, {model.levels} levels)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "file_bytes": os.path.getsize(out_path),
        "sha256": digest.hex(),
        "data": data or config.get("data", ""),
        "init": before.get("model_id"),
        "steps": meta["step"],
        "steps_total": steps_total,
        "device": meta.get("device", ""),
        "wall_time_s": round(meta.get("wall_s", 0.0)),
        "wall_time_total_s": round(wall_total),
        "recipe": {k: config.get(k) for k in ("recipe", "arch", "crop", "batch", "lr", "schedule", "lr_min", "ema",
                                               "scale", "noise", "level_balance", "steps", "time_limit", "bf16")},
        "lambdas": list(LAMBDAS[:model.levels]),
        "kodak": None,
        "history": release_history(previous),
    })
    return out_path


def shift_top_step(weights_path: str, shift: float) -> str:
    """Lowers the top level's learned log-step by ``shift`` in exported base weights, in place.

    The top level settles where its lambda puts it; a slightly finer step moves quality 100
    up the same curve (more bits, more dB) without retraining, so a release can reach the
    rate range it promises. The entropy tables do not depend on the step (scales are divided
    by it at coding time), so only ``log_step`` and the card change. Returns the new sha256.
    """
    from safetensors import safe_open

    with safe_open(weights_path, "pt") as f:
        metadata = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    log_step = tensors["log_step"].float()
    log_step[-1] -= shift
    if len(log_step) > 1 and log_step[-1] >= log_step[-2]:
        raise ValueError(f"a shift of {shift} would make the top level's step coarser than the one below it")
    tensors["log_step"] = log_step.to(tensors["log_step"].dtype)
    digest = _save(tensors, weights_path, metadata).hex()
    card = _read_card(weights_path)
    if card:
        _card(weights_path, {**card, "sha256": digest, "file_bytes": os.path.getsize(weights_path),
                             "top_step_shift": round(card.get("top_step_shift", 0.0) + shift, 6)})
    return digest


def _chain(meta: dict, config: dict):
    """(card of the --init weights, steps and seconds of the whole chain): a run started
    with --init continues the weights it started from, so their training counts too."""
    before = _read_card(config["init"]) if config.get("init") else {}
    steps_total = meta["step"] + before.get("steps_total", before.get("steps", 0))
    wall_total = meta.get("wall_s", 0.0) + before.get("wall_time_total_s", before.get("wall_time_s", 0))
    return before, steps_total, wall_total


def _model_id(name: str, steps_total: int) -> str:
    # The chain's steps, not the run's: two equal-length retrains must not share a name.
    return f"{name}-" + datetime.date.today().strftime("%Y%m%d") + f"-s{steps_total}"


def _load(ckpt_path, model):
    # Optimizer state is not needed for export: load model tensors only.
    return load_checkpoint(ckpt_path, model, {})


def _read_card(weights_path: str) -> dict:
    card = os.path.splitext(weights_path)[0] + ".json"
    if not os.path.exists(card):
        return {}
    with open(card) as f:
        return json.load(f)


def release_history(card: dict) -> list:
    """The releases before ``card``'s, then one line for it: what the model card's table lists.

    Weights ``ncd bench --card`` never measured (a GPU leg between two releases) were no
    release: they pass their history on without a line of their own.
    """
    if not card:
        return []
    kodak = card.get("kodak") or {}
    if not kodak:
        return list(card.get("history", []))
    line = {
        "model_id": card["model_id"],
        "architecture": card.get("architecture", ""),
        "steps_total": card.get("steps_total", card.get("steps")),
        "device": card.get("device", ""),
        "hours_total": round(card.get("wall_time_total_s", card.get("wall_time_s", 0)) / 3600, 2),
        "kodak_bd_rate_psnr_percent": kodak.get("bd_rate_psnr_percent"),
        # Kept so that the next release's bench can give its BD-rate against this one.
        "kodak_points": kodak.get(CARD_POINTS),
    }
    # A card may already list itself (its release table shows it): that line is replaced.
    return [h for h in card.get("history", []) if h["model_id"] != line["model_id"]] + [line]


def _card(path, fields):
    write_card(os.path.splitext(path)[0] + ".json", fields)


def _export_unet(ckpt_path, out_path, unet, name, description, data, metadata, recipe_keys) -> str:
    """fp16 weights of a diffusion decoder's U-Net, tied to the base weights it was trained on."""
    config = _config(ckpt_path)
    meta = _load(ckpt_path, unet)
    tensors = {k: v.half().contiguous() for k, v in unet.state_dict().items()}
    before, steps_total, wall_total = _chain(meta, config)
    model_id = _model_id(name, steps_total)
    metadata = {"model_id": model_id, "unet": json.dumps(unet.config), "base_sha256": config["base_sha256"],
                **{k: str(v) for k, v in metadata.items()}}
    digest = _save(tensors, out_path, metadata)
    _card(out_path, {
        "model_id": model_id, "architecture": f"{description} " + json.dumps(unet.config),
        "parameters": sum(p.numel() for p in unet.parameters()), "file_bytes": os.path.getsize(out_path),
        "sha256": digest.hex(), "base_sha256": config["base_sha256"], "data": data or config.get("data", ""),
        "init": before.get("model_id", config["init"]) if config.get("init") else None,
        "steps": meta["step"], "steps_total": steps_total, "device": meta.get("device", ""),
        "wall_time_s": round(meta.get("wall_s", 0.0)), "wall_time_total_s": round(wall_total),
        "recipe": {k: config.get(k) for k in ("recipe", "crop", "batch", "lr", "steps", "time_limit", "bf16") + recipe_keys},
        "kodak": None,
    })
    return out_path


def export_nc(ckpt_path: str, out_path: str = DECODERS["nc"].weights, data: str = "") -> str:
    from ..diffusion.unet import NCUNet

    config = _config(ckpt_path)
    unet = NCUNet(freq_filter=not config.get("no_freq_filter", False))
    return _export_unet(ckpt_path, out_path, unet, "nc", "NC-Diffusion x0-predicting U-Net", data,
                        {"eta_power": config["eta_power"], "kappa": config["kappa"]}, ("kappa", "eta_power"))


def export_cdc(ckpt_path: str, out_path: str = DECODERS["cdc"].weights, data: str = "") -> str:
    from ..diffusion.cdc_unet import CDCUNet

    config = _config(ckpt_path)
    return _export_unet(ckpt_path, out_path, CDCUNet(), "cdc", "CDC latent-conditioned x0-predicting U-Net", data,
                        {"snr_gamma": config.get("snr_gamma", 5.0)}, ("snr_gamma",))

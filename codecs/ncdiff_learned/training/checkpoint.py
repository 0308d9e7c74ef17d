"""Resumable training state in safetensors (no pickle anywhere).

Model and optimizer tensors go into one safetensors file; everything that is
not a tensor (step, optimizer hyper-parameters, RNG seeds, log position) goes
into its JSON metadata.  Writes are atomic: a crash never leaves a broken
checkpoint behind.
"""

import json

import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from ncdiff_plugin.files import atomic_output


def _optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer):
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for idx, slots in state["state"].items():
        for key, value in slots.items():
            name = f"{prefix}.{idx}.{key}"
            if torch.is_tensor(value):
                tensors[name] = value.detach().contiguous().cpu()
            else:
                scalars[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def save_checkpoint(path: str, model: torch.nn.Module, optimizers: dict, meta: dict, average=None) -> None:
    tensors = {f"model.{k}": v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    if average is not None:
        tensors.update({f"ema.{k}": v.detach().contiguous().cpu() for k, v in average.shadow.items()})
    opt_meta = {}
    for name, opt in optimizers.items():
        t, m = _optimizer_tensors(f"opt.{name}", opt)
        tensors.update(t)
        opt_meta[name] = m
    metadata = {"meta": json.dumps(meta), "optimizers": json.dumps(opt_meta)}
    with atomic_output(path) as tmp:
        save_file(tensors, tmp, metadata=metadata)


def load_checkpoint(path: str, model: torch.nn.Module, optimizers: dict, average=None,
                    prefer_average: bool = False) -> dict:
    """Restores model, optimizers and (if given) the weight average; returns the metadata.

    ``prefer_average``: load the weight average into the model when the
    checkpoint has one (for export).
    """
    tensors = load_file(path)
    with safe_open(path, "pt") as f:
        metadata = f.metadata()
    weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    averaged = {k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}
    if prefer_average:
        weights.update(averaged)
    model.load_state_dict(weights)
    if average is not None:
        for name in average.names:
            average.shadow[name] = averaged.get(name, weights[name]).clone()
        average.updates = json.loads(metadata["meta"])["step"]
    opt_meta = json.loads(metadata["optimizers"])
    for name, opt in optimizers.items():
        prefix = f"opt.{name}."
        state = {}
        for key, value in tensors.items():
            if key.startswith(prefix):
                idx, slot = key[len(prefix):].split(".", 1)
                state.setdefault(int(idx), {})[slot] = value
        for key, value in opt_meta[name]["scalars"].items():
            idx, slot = key[len(prefix):].split(".", 1)
            state.setdefault(int(idx), {})[slot] = value
        opt.load_state_dict({"state": state, "param_groups": opt_meta[name]["param_groups"]})
    return json.loads(metadata["meta"])

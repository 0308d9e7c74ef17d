"""Training loop of the base codec (rate-distortion loss, random quality per sample)."""

import json
import math
import os
import platform
import time

import torch
from tqdm import tqdm

from ..models import GainedCheckerboardHyperprior
from ..rate import LAMBDAS, LEVELS
from .checkpoint import load_checkpoint, save_checkpoint
from .data import CropSampler


def _lambdas(level: torch.Tensor) -> torch.Tensor:
    logs = torch.log(torch.tensor(LAMBDAS, dtype=torch.float32, device=level.device))
    lo = level.floor().clamp(0, LEVELS - 2).long()
    a = level - lo.float()
    return torch.exp((1 - a) * logs[lo] + a * logs[lo + 1])


def rd_terms(model, x: torch.Tensor, level: torch.Tensor):
    """Per-sample (bpp, mse) of a forward pass."""
    out = model(x, level)
    pixels = x.shape[2] * x.shape[3]
    bpp = sum(-torch.log2(l).flatten(1).sum(1) for l in out["likelihoods"].values()) / pixels
    mse = (out["x_hat"] - x).pow(2).flatten(1).mean(1)
    return bpp, mse


def train(args) -> str:
    """Trains (or resumes) and returns the path of the last checkpoint."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.workdir, exist_ok=True)
    ckpt_path = os.path.join(args.workdir, "base.ckpt.safetensors")
    log_path = os.path.join(args.workdir, "base.log.jsonl")

    model = GainedCheckerboardHyperprior(N=args.N, M=args.M).to(device)
    aux_params = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    net_params = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    opt = torch.optim.Adam(net_params, lr=args.lr)
    aux_opt = torch.optim.Adam(aux_params, lr=1e-3)
    meta = {"step": 0, "wall_s": 0.0, "config": vars(args).copy()}
    if os.path.exists(ckpt_path) and not args.restart:
        meta = load_checkpoint(ckpt_path, model, {"net": opt, "aux": aux_opt})
        print(f"resumed from {ckpt_path} at step {meta['step']}")
    sampler = CropSampler(args.data, args.crop, scale=args.scale, seed=args.seed + meta["step"], progress=tqdm)

    model.train()
    step, wall_before, started = meta["step"], meta["wall_s"], time.time()
    last_ckpt = time.time()
    window = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "n": 0}
    bar = tqdm(total=args.steps, initial=step, desc="train base", dynamic_ncols=True)
    with open(log_path, "a") as log:
        while step < args.steps:
            elapsed = wall_before + time.time() - started
            if args.time_limit and elapsed >= args.time_limit:
                print(f"time limit reached at step {step}")
                break
            # Step decay over the last 15% of the schedule (in steps, or in time).
            late = step >= 0.85 * args.steps or (args.time_limit and elapsed >= 0.85 * args.time_limit)
            lr = args.lr * (0.1 if late else 1.0)
            for group in opt.param_groups:
                group["lr"] = lr
            x = torch.from_numpy(sampler.batch(args.batch)).to(device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0)
            level = torch.rand(args.batch, device=device) * (LEVELS - 1)
            bpp, mse = rd_terms(model, x, level)
            loss = (_lambdas(level) * 255.0**2 * mse + bpp).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net_params, 1.0)
            opt.step()
            aux_opt.zero_grad(set_to_none=True)
            model.aux_loss().backward()
            aux_opt.step()
            step += 1
            bar.update(1)
            window["loss"] += loss.item()
            window["bpp"] += bpp.mean().item()
            window["psnr"] += (-10 * torch.log10(mse.clamp_min(1e-10))).mean().item()
            window["n"] += 1
            if step % args.log_every == 0 or step == args.steps:
                n = window.pop("n")
                row = {k: round(v / n, 4) for k, v in window.items()}
                row.update(step=step, lr=lr, wall_s=round(wall_before + time.time() - started, 1))
                log.write(json.dumps(row) + "\n")
                log.flush()
                bar.set_postfix(loss=row["loss"], bpp=row["bpp"], psnr=row["psnr"])
                window = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "n": 0}
            if time.time() - last_ckpt >= args.checkpoint_every:
                meta.update(step=step, wall_s=wall_before + time.time() - started)
                save_checkpoint(ckpt_path, model, {"net": opt, "aux": aux_opt}, meta)
                last_ckpt = time.time()
    bar.close()
    meta.update(step=step, wall_s=wall_before + time.time() - started)
    meta["device"] = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({platform.processor() or platform.machine()}, {args.threads} threads)"
    save_checkpoint(ckpt_path, model, {"net": opt, "aux": aux_opt}, meta)
    return ckpt_path

"""The training loop shared by every model: schedule, logging, resumable checkpoints."""

import json
import os
import platform
import time

import torch
from tqdm import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .data import CropSampler


def device_name(device: torch.device, threads: int) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {threads} threads)"


def apply_gradients(optimizer: torch.optim.Optimizer, model: torch.nn.Module, loss: torch.Tensor,
                    clip: float = 1.0) -> None:
    """One optimiser step on ``loss``, with the gradient norm clipped to ``clip``."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()


def train_loop(args, name: str, model: torch.nn.Module, optimizers: dict, step_fn, scheduled: str = "net") -> str:
    """Runs ``step_fn(x, lr) -> {metric: float}`` on random crop batches until
    ``args.steps`` or ``args.time_limit`` seconds; resumes from ``workdir``.

    The learning rate of ``optimizers[scheduled]`` drops tenfold over the last
    15% of the schedule (in steps, or in time when a time limit is set).
    Returns the checkpoint path.
    """
    device = torch.device(args.device)
    os.makedirs(args.workdir, exist_ok=True)
    ckpt_path = os.path.join(args.workdir, f"{name}.ckpt.safetensors")
    log_path = os.path.join(args.workdir, f"{name}.log.jsonl")
    # The settings as JSON: the ncd CLI also stores its handler function in args.
    config = {k: v for k, v in vars(args).items() if not callable(v)}
    meta = {"step": 0, "wall_s": 0.0, "config": config}
    if os.path.exists(ckpt_path) and not args.restart:
        meta = load_checkpoint(ckpt_path, model, optimizers)
        meta["config"] = config  # the latest invocation's settings
        print(f"resumed from {ckpt_path} at step {meta['step']}")
    sampler = CropSampler(args.data, args.crop, scale=args.scale, seed=args.seed + meta["step"], progress=tqdm)

    step, wall_before, started = meta["step"], meta["wall_s"], time.time()
    last_ckpt = time.time()
    # Per-metric sums and counts: a step may report NaN for a metric it had no sample for.
    sums, counts = {}, {}
    bar = tqdm(total=args.steps, initial=step, desc=f"train {name}", dynamic_ncols=True)

    def checkpoint():
        meta.update(step=step, wall_s=wall_before + time.time() - started, device=device_name(device, args.threads))
        save_checkpoint(ckpt_path, model, optimizers, meta)

    with open(log_path, "a") as log:
        while step < args.steps:
            elapsed = wall_before + time.time() - started
            if args.time_limit and elapsed >= args.time_limit:
                print(f"time limit reached at step {step}")
                break
            late = step >= 0.85 * args.steps or (args.time_limit and elapsed >= 0.85 * args.time_limit)
            lr = args.lr * (0.1 if late else 1.0)
            for group in optimizers[scheduled].param_groups:
                group["lr"] = lr
            x = torch.from_numpy(sampler.batch(args.batch)).to(device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0)
            for key, value in step_fn(x, lr).items():
                if value == value:
                    sums[key] = sums.get(key, 0.0) + value
                    counts[key] = counts.get(key, 0) + 1
            step += 1
            bar.update(1)
            if step % args.log_every == 0 or step == args.steps:
                row = {k: round(v / counts[k], 4) for k, v in sums.items()}
                row.update(step=step, lr=lr, wall_s=round(wall_before + time.time() - started, 1))
                log.write(json.dumps(row) + "\n")
                log.flush()
                bar.set_postfix({k: row[k] for k in list(sums)[:3]})
                sums, counts = {}, {}
            if time.time() - last_ckpt >= args.checkpoint_every:
                checkpoint()
                last_ckpt = time.time()
    bar.close()
    checkpoint()
    return ckpt_path

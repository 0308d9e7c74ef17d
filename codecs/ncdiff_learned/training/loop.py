"""The training loop shared by every model: schedule, weight EMA, timed
evaluation, logging, resumable checkpoints."""

import json
import math
import os
import platform
import time

import torch
from tqdm import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .data import CropSampler

#: Share of the schedule spent warming the learning rate up (cosine schedule).
WARMUP = 0.02


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


def learning_rate(args, progress: float) -> float:
    """The schedule at ``progress`` in [0, 1] of the run.

    ``step``: ``lr``, then a tenth of it over the last 15%.  ``cosine``: linear
    warm-up over the first 2%, then cosine decay to ``lr_min``.
    """
    if getattr(args, "schedule", "step") == "cosine":
        if progress < WARMUP:
            return args.lr * max(progress / WARMUP, 0.01)
        p = min((progress - WARMUP) / (1 - WARMUP), 1.0)
        return args.lr_min + 0.5 * (args.lr - args.lr_min) * (1 + math.cos(math.pi * p))
    return args.lr * (0.1 if progress >= 0.85 else 1.0)


class WeightAverage:
    """Exponential moving average of a model's parameters (``decay`` per step,
    warmed up as ``min(decay, (1 + n) / (10 + n))`` after n updates, so that a
    short run's average is not dominated by its random initial weights).

    ``swapped()`` puts the averaged weights into the model for evaluation or
    export and restores the trained ones afterwards.
    """

    def __init__(self, model: torch.nn.Module, decay: float):
        self.model, self.decay = model, decay
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        params = dict(model.named_parameters())
        self.shadow = {n: params[n].detach().clone() for n in self.names}
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        params = dict(self.model.named_parameters())
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_([self.shadow[n] for n in self.names], [params[n].detach() for n in self.names],
                             1.0 - decay)
        self.updates += 1

    @torch.no_grad()
    def swap(self) -> None:
        params = dict(self.model.named_parameters())
        for n in self.names:
            kept = params[n].detach().clone()
            params[n].copy_(self.shadow[n])
            self.shadow[n] = kept


def _clock(args):
    """Seconds of training: wall-clock, or with ``--clock cpu`` the process's CPU
    time over its thread count, which other work on the machine cannot inflate
    (what an equal-time comparison of recipes needs)."""
    if getattr(args, "clock", "wall") == "cpu":
        return lambda: time.process_time() / args.threads
    return time.time


def train_loop(args, name: str, model: torch.nn.Module, optimizers: dict, step_fn, scheduled: str = "net",
               evaluate=None) -> str:
    """Runs ``step_fn(x, lr, progress) -> {metric: float}`` on random crop batches
    until ``args.steps`` or ``args.time_limit`` seconds of training; resumes
    from ``workdir``.

    ``progress`` (0..1) is measured in steps, or in training time when a time
    limit is set; it drives the learning rate of ``optimizers[scheduled]``.
    With ``args.eval_every`` seconds and an ``evaluate(model) -> dict``, the
    model (its weight average, with ``args.ema``) is evaluated at those
    intervals of training time and the results logged as ``{"eval": ...}``
    rows; evaluation time is not counted as training time.
    Returns the checkpoint path.
    """
    device = torch.device(args.device)
    os.makedirs(args.workdir, exist_ok=True)
    ckpt_path = os.path.join(args.workdir, f"{name}.ckpt.safetensors")
    log_path = os.path.join(args.workdir, f"{name}.log.jsonl")
    # The settings as JSON: the ncd CLI also stores its handler function in args.
    config = {k: v for k, v in vars(args).items() if not callable(v)}
    meta = {"step": 0, "wall_s": 0.0, "config": config}
    average = WeightAverage(model, args.ema) if getattr(args, "ema", 0) else None
    if os.path.exists(ckpt_path) and not args.restart:
        meta = load_checkpoint(ckpt_path, model, optimizers, average)
        meta["config"] = config  # the latest invocation's settings
        print(f"resumed from {ckpt_path} at step {meta['step']}")
    sampler = CropSampler(args.data, args.crop, scale=args.scale, noise=getattr(args, "noise", 0.0),
                          seed=args.seed + meta["step"], progress=tqdm, device=device)

    step, wall_before = meta["step"], meta["wall_s"]
    first_step = step
    clock = _clock(args)
    # 'started' moves forward by the time spent evaluating, so training time excludes it.
    started = clock()
    last_ckpt = time.time()
    eval_every = getattr(args, "eval_every", 0) if evaluate else 0
    next_eval = (wall_before // eval_every + 1) * eval_every if eval_every else math.inf
    # Per-metric sums and counts: a step may report NaN for a metric it had no sample for.
    sums, counts = {}, {}
    bar = tqdm(total=args.steps, initial=step, desc=f"train {name}", dynamic_ncols=True)

    def trained_s():
        return wall_before + clock() - started

    def checkpoint():
        meta.update(step=step, wall_s=trained_s(), device=device_name(device, args.threads))
        save_checkpoint(ckpt_path, model, optimizers, meta, average)

    def run_eval(log):
        nonlocal started
        t0, c0 = time.time(), clock()
        if average:
            average.swap()
        try:
            result = evaluate(model)
        finally:
            if average:
                average.swap()
        started += clock() - c0
        row = {"step": step, "wall_s": round(trained_s(), 1), "eval": result, "eval_s": round(time.time() - t0, 1)}
        log.write(json.dumps(row) + "\n")
        log.flush()
        tqdm.write(f"eval at {row['wall_s']:.0f} s, step {step}: {json.dumps(result)}")

    last_eval_step = None
    with open(log_path, "a") as log:
        if eval_every and step == 0:
            run_eval(log)
            last_eval_step = step
        while step < args.steps:
            elapsed = trained_s()
            if args.time_limit and elapsed >= args.time_limit:
                print(f"time limit reached at step {step}")
                break
            progress = elapsed / args.time_limit if args.time_limit else step / args.steps
            lr = learning_rate(args, progress)
            for group in optimizers[scheduled].param_groups:
                group["lr"] = lr
            for key, value in step_fn(sampler.batch(args.batch), lr, progress).items():
                if value == value:
                    sums[key] = sums.get(key, 0.0) + value
                    counts[key] = counts.get(key, 0) + 1
            if average:
                average.update()
            step += 1
            bar.update(1)
            if step % args.log_every == 0 or step == args.steps:
                row = {k: round(v / counts[k], 4) for k, v in sums.items()}
                row.update(step=step, lr=lr, wall_s=round(trained_s(), 1),
                           steps_per_s=round((step - first_step) / max(trained_s() - wall_before, 1e-9), 2))
                log.write(json.dumps(row) + "\n")
                log.flush()
                bar.set_postfix({k: row[k] for k in list(sums)[:3]})
                sums, counts = {}, {}
            if trained_s() >= next_eval:
                run_eval(log)
                last_eval_step = step
                next_eval += eval_every
            if time.time() - last_ckpt >= args.checkpoint_every:
                checkpoint()
                last_ckpt = time.time()
        if eval_every and last_eval_step != step and step > first_step:
            run_eval(log)  # the end point of this run
    bar.close()
    checkpoint()
    run_s = trained_s() - wall_before
    print(f"{step - first_step} steps in {run_s:.0f} s: {(step - first_step) / max(run_s, 1e-9):.2f} steps/s "
          f"on {device_name(device, args.threads)}")
    return ckpt_path

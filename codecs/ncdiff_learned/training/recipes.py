"""Named training recipes (defaults a flag can still override) and the
candidate recipes ``ncd train base --candidates`` compares for equal time."""

RECIPES = {
    # 2 CPU cores, runs in the background while you work.
    "cpu": dict(crop=128, batch=8, steps=20000, lr=2e-4, threads=2, device="cpu"),
    # One modern GPU.
    "gpu": dict(crop=256, batch=16, steps=400000, lr=1e-4, threads=8, device="cuda"),
}

#: What the equal-time comparison chose for the base codec (docs/training/compare.md):
#: quantisation-step scaling, peak lr 5e-4 with warm-up and cosine decay, weight average;
#: and, from the release runs (docs/training/release.md), every rate level weighted alike.
#: Applied to ``ncd train base`` under either recipe; flags still override.
BASE_CHOICE = dict(arch="step", schedule="cosine", lr=5e-4, ema=0.999, level_balance=0.5)

#: ... and, on a CPU, 256x256 crops like the GPU recipe's (docs/training/release.md): on 128x128
#: crops the hyperprior sees a 2x2 grid of hyper-latents, mostly padding. A batch of 4 is twice
#: the pixels of the 128x128 recipe's step, at 2.7x its time on 2 CPU threads.
BASE_CHOICE_BY_RECIPE = {"cpu": dict(crop=256, batch=4)}

#: Overrides of each candidate, on top of the chosen recipe.
CANDIDATES = {
    # What the shipped weights were trained with: gain units, constant lr then a tenth.
    "gain": dict(arch="gain", schedule="step"),
    # Quantisation-step scaling, otherwise the same.
    "step": dict(arch="step", schedule="step"),
    # The same, trained at the anchor (top) lambda alone for the first half.
    "step-anchor": dict(arch="step", schedule="step", anchor_share=0.5),
    # Higher peak lr with warm-up and cosine decay, and a weight average.
    "step-cosine": dict(arch="step", schedule="cosine", lr=5e-4, ema=0.999),
    # ... with the entropy model in float32 under bf16 (the GPU recipe's setting; slower on a CPU).
    "step-cosine-fp32": dict(arch="step", schedule="cosine", lr=5e-4, ema=0.999, entropy_fp32=True),
    # ... on photos downscaled 2x (fewer JPEG artefacts) with a little noise.
    "step-cosine-clean": dict(arch="step", schedule="cosine", lr=5e-4, ema=0.999, scale=0.5, noise=1.0),
    # ... with every rate level's loss weighted to about the same size (--level-balance).
    "step-cosine-balanced": dict(arch="step", schedule="cosine", lr=5e-4, ema=0.999, level_balance=0.5),
    # ... with 320 latent channels for the high rates.
    "step-cosine-m320": dict(arch="step", schedule="cosine", lr=5e-4, ema=0.999, M=320),
}

"""Named training recipes: defaults a flag can still override."""

RECIPES = {
    # 2 CPU cores, runs in the background while you work.
    "cpu": dict(crop=128, batch=8, steps=20000, lr=2e-4, threads=2, device="cpu"),
    # One modern GPU.
    "gpu": dict(crop=256, batch=16, steps=400000, lr=1e-4, threads=8, device="cuda"),
}

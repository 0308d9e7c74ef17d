"""Arguments of ``ncd train`` (also ``python -m ncdiff_learned.training``)."""

import argparse
import warnings

from ..decoders import DECODERS
from .recipes import BASE_CHOICE, BASE_CHOICE_BY_RECIPE, CANDIDATES, RECIPES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", choices=list(DECODERS),
                        help="which model to train: the base codec or a decoder (these need the shipped base weights)")
    parser.add_argument("--data", required=True, help="folder of training photos (searched recursively)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="cpu", help="defaults for the machine (default: cpu)")
    parser.add_argument("--workdir", help="checkpoints and logs (default: runs/MODEL)")
    parser.add_argument("--crop", type=int, help="crop side in pixels")
    parser.add_argument("--scale", type=float,
                        help="downscale photos first, never below --crop on the short side (default: 0.75)")
    parser.add_argument("--noise", type=float, help="Gaussian noise on each crop, in 0..255 units (default: 0)")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--steps", type=int, help="total steps of the schedule")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--schedule", choices=["step", "cosine"],
                        help="step: lr, then lr/10 for the last 15%%; cosine: warm-up, then decay to --lr-min")
    parser.add_argument("--lr-min", type=float, help="end of the cosine schedule (default: 1e-5)")
    parser.add_argument("--ema", type=float, help="decay of a weight average evaluated and exported (0: none)")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--device")
    parser.add_argument("-N", dest="N", type=int, help="transform channels (default: 128)")
    parser.add_argument("-M", dest="M", type=int, help="latent channels (default: 192)")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast for convolutions (CPU with AVX512-BF16, or GPU)")
    parser.add_argument("--time-limit", type=float, default=0, help="stop after this many seconds of training (0: none)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="what --time-limit counts: wall-clock seconds, or CPU seconds per thread (default: wall)")
    parser.add_argument("--checkpoint-every", type=float, default=300, help="seconds between checkpoints")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--export", action="store_true", help="export weights into the package when done")
    parser.add_argument("--export-to", metavar="PATH", help="export weights (and their card) to PATH instead")
    parser.add_argument("--eval-data", help="folder of probe images (e.g. Kodak): rate and PSNR logged during training")
    parser.add_argument("--eval-every", type=float, default=60, help="seconds of training between probes (default 60)")
    parser.add_argument("--eval-images", type=int, default=6, help="probe images used (default: the first 6)")
    base = parser.add_argument_group("base codec")
    base.add_argument("--arch", choices=["step", "gain"],
                      help="rate control: step (quantisation-step scaling, default) or gain (per-channel gain units)")
    base.add_argument("--entropy-fp32", action=argparse.BooleanOptionalAction, default=None,
                      help="entropy model in float32 under --bf16 (default: on a GPU only)")
    base.add_argument("--anchor-share", type=float,
                      help="share of the run trained at the top lambda only, before all levels (default 0)")
    base.add_argument("--level-balance", type=float,
                      help="weight each sample's loss by (top lambda / its lambda) ** this; 0.5 trains every "
                           "rate level about equally (the default), 0 lets the high rates dominate")
    parser.add_argument("--init", help="start from these exported weights of the same model (fresh optimizer)")
    base.add_argument("--candidates", help="comma-separated candidate recipes to compare for --time-limit seconds "
                                           "each (" + ", ".join(CANDIDATES) + ")")
    base.add_argument("--report", help="with --candidates: folder for the table and curves (default: the workdir)")
    nc = parser.add_argument_group("nc decoder")
    nc.add_argument("--kappa", type=float, default=0.05, help="noise scale of the stochastic path (default 0.05)")
    nc.add_argument("--eta-power", type=float, default=1.5, help="eta(t) = t**power (default 1.5)")
    nc.add_argument("--no-freq-filter", action="store_true", help="ablation: plain skip connections")
    cdc = parser.add_argument_group("cdc decoder")
    cdc.add_argument("--snr-gamma", type=float, default=5.0, help="min-SNR weighting cap (default 5)")


#: Defaults of options no recipe sets.
DEFAULTS = dict(scale=0.75, noise=0.0, schedule="step", lr_min=1e-5, ema=0.0, N=128, M=192, arch="step",
                anchor_share=0.0, level_balance=0.0)


def resolve(args: argparse.Namespace, overrides: dict = None) -> argparse.Namespace:
    """Fills unset options from ``overrides`` (a candidate), else the base codec's
    chosen recipe (for ``base``), then the machine's recipe, then the defaults."""
    choice = {}
    if overrides is None and args.model == "base":
        choice = {**BASE_CHOICE, **BASE_CHOICE_BY_RECIPE.get(args.recipe, {})}
    for source in (overrides or {}, choice, RECIPES[args.recipe], DEFAULTS):
        for key, value in source.items():
            if getattr(args, key, None) is None:
                setattr(args, key, value)
    if args.workdir is None:
        args.workdir = f"runs/{args.model}"
    if getattr(args, "entropy_fp32", None) is None:
        args.entropy_fp32 = str(args.device).startswith("cuda")
    if args.bf16 and str(args.device).startswith("cpu") and not _cpu_has_bf16():
        # Measured on an AVX2-only EPYC: 35 s a step under bf16 autocast, 1 s in float32.
        warnings.warn("--bf16 is ignored on this CPU: without AVX512-BF16 or AMX, bf16 autocast runs "
                      "about 35x slower than float32")
        args.bf16 = False
    return args


def _cpu_has_bf16() -> bool:
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch without this query: trust the flag
        return True


def run(args: argparse.Namespace) -> int:
    if getattr(args, "candidates", None):
        from .compare import compare

        return compare(args)
    args = resolve(args)
    evaluate = None
    if args.model == "base" and args.eval_data:
        from .probe import RateProbe

        evaluate = RateProbe(args.eval_data, args.eval_images, device=args.device)
    entry = DECODERS[args.model]
    ckpt = entry.trainer(args, evaluate) if evaluate else entry.trainer(args)
    print(f"checkpoint: {ckpt}")
    if args.export or args.export_to:
        path = (entry.exporter(ckpt, args.export_to, data=args.data) if args.export_to
                else entry.exporter(ckpt, data=args.data))
        print(f"exported weights: {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ncdiff_learned.training")
    add_arguments(parser)
    return run(parser.parse_args(argv))

"""Arguments of ``ncd train`` (also ``python -m ncdiff_learned.training``)."""

import argparse

from .recipes import RECIPES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", choices=["base", "nc", "cdc"],
                        help="which model to train (nc and cdc need the shipped base weights)")
    parser.add_argument("--data", required=True, help="folder of training photos (searched recursively)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="cpu", help="defaults for the machine (default: cpu)")
    parser.add_argument("--workdir", help="checkpoints and logs (default: runs/MODEL)")
    parser.add_argument("--crop", type=int, help="crop side in pixels")
    parser.add_argument("--scale", type=float, default=0.75, help="downscale photos first (default: 0.75)")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--steps", type=int, help="total steps of the schedule")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--device")
    parser.add_argument("-N", dest="N", type=int, default=128, help="transform channels")
    parser.add_argument("-M", dest="M", type=int, default=192, help="latent channels")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast for convolutions (CPU with AVX512-BF16, or GPU)")
    parser.add_argument("--time-limit", type=float, default=0, help="stop after this many seconds of training (0: none)")
    parser.add_argument("--checkpoint-every", type=float, default=300, help="seconds between checkpoints")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--export", action="store_true", help="export weights into the package when done")
    nc = parser.add_argument_group("nc decoder")
    nc.add_argument("--kappa", type=float, default=0.05, help="noise scale of the stochastic path (default 0.05)")
    nc.add_argument("--eta-power", type=float, default=1.5, help="eta(t) = t**power (default 1.5)")
    nc.add_argument("--no-freq-filter", action="store_true", help="ablation: plain skip connections")
    cdc = parser.add_argument_group("cdc decoder")
    cdc.add_argument("--snr-gamma", type=float, default=5.0, help="min-SNR weighting cap (default 5)")


def resolve(args: argparse.Namespace) -> argparse.Namespace:
    """Fills unset options from the recipe."""
    for key, value in RECIPES[args.recipe].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.workdir is None:
        args.workdir = f"runs/{args.model}"
    return args


def run(args: argparse.Namespace) -> int:
    import importlib

    from .. import export

    args = resolve(args)
    ckpt = importlib.import_module(f".{args.model}", __package__).train(args)
    print(f"checkpoint: {ckpt}")
    if args.export:
        path = getattr(export, f"export_{args.model}")(ckpt, data=args.data)
        print(f"exported weights: {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ncdiff_learned.training")
    add_arguments(parser)
    return run(parser.parse_args(argv))

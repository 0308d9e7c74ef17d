"""Arguments of ``ncd train`` (also ``python -m ncdiff_learned.training``)."""

import argparse

from .recipes import RECIPES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", choices=["base"], help="which model to train")
    parser.add_argument("--data", required=True, help="folder of training photos (searched recursively)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="cpu", help="defaults for the machine (default: cpu)")
    parser.add_argument("--workdir", default="runs/base", help="checkpoints and logs (default: runs/base)")
    parser.add_argument("--crop", type=int, help="crop side in pixels")
    parser.add_argument("--scale", type=float, default=0.75, help="downscale photos first (default: 0.75)")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--steps", type=int, help="total steps of the schedule")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--device")
    parser.add_argument("-N", dest="N", type=int, default=128, help="transform channels")
    parser.add_argument("-M", dest="M", type=int, default=192, help="latent channels")
    parser.add_argument("--time-limit", type=float, default=0, help="stop after this many seconds of training (0: none)")
    parser.add_argument("--checkpoint-every", type=float, default=300, help="seconds between checkpoints")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--export", action="store_true", help="export weights into the package when done")


def resolve(args: argparse.Namespace) -> argparse.Namespace:
    """Fills unset options from the recipe."""
    for key, value in RECIPES[args.recipe].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    return args


def run(args: argparse.Namespace) -> int:
    from .base import train

    ckpt = train(resolve(args))
    print(f"checkpoint: {ckpt}")
    if args.export:
        from ..export import export_base

        path = export_base(ckpt, data=args.data)
        print(f"exported weights: {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ncdiff_learned.training")
    add_arguments(parser)
    return run(parser.parse_args(argv))

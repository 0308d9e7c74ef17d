"""One leg of base-codec training on a machine that keeps nothing between commands.

``python -m ncdiff_learned.training.leg --data DIR --carry DIR --out DIR``:

1. joins the weight parts that the previous leg left in ``--carry``
   (``base.part-000`` ...) and starts from them (fresh optimizer), or from the
   shipped weights when there are none;
2. trains for ``--minutes`` with the chosen recipe (bf16 transforms, float32
   entropy model, crops cut on the device);
3. exports fp16 weights and splits them into parts of at most ``--part-mb``
   into ``--out``, beside the model card and the training log, ready to carry
   into the next leg.

Each leg is one command well inside a 10-minute limit; the test suite runs the
same path on the CPU for a few steps.
"""

import argparse
import glob
import os
import shutil
import sys

from ..weights import BASE_WEIGHTS

PART_PREFIX = "base.part-"


def join_parts(folder: str, dest: str):
    """Concatenates ``folder/base.part-*`` into ``dest``; returns dest, or None if there are no parts."""
    parts = sorted(glob.glob(os.path.join(folder, PART_PREFIX + "*")))
    if not parts:
        return None
    with open(dest, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    card = os.path.join(folder, "base.json")
    if os.path.exists(card):
        shutil.copy(card, os.path.splitext(dest)[0] + ".json")
    return dest


def split_file(path: str, folder: str, part_bytes: int):
    """Writes ``path`` as ``folder/base.part-000``, ``-001`` ... of at most ``part_bytes`` each."""
    os.makedirs(folder, exist_ok=True)
    names = []
    with open(path, "rb") as f:
        while chunk := f.read(part_bytes):
            names.append(os.path.join(folder, f"{PART_PREFIX}{len(names):03d}"))
            with open(names[-1], "wb") as out:
                out.write(chunk)
    return names


def main(argv=None) -> int:
    from .cli import add_arguments, run

    parser = argparse.ArgumentParser(prog="python -m ncdiff_learned.training.leg")
    parser.add_argument("--data", required=True, help="training photos")
    parser.add_argument("--carry", required=True, help="folder with the previous leg's parts (may be empty)")
    parser.add_argument("--out", required=True, help="folder for this leg's parts, card and log")
    parser.add_argument("--minutes", type=float, default=8.0, help="training time of this leg (default 8)")
    parser.add_argument("--recipe", default="gpu")
    parser.add_argument("--part-mb", type=float, default=15.0, help="largest part (default 15 MB)")
    args, train_flags = parser.parse_known_args(argv)

    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)
    init = join_parts(args.carry, os.path.join(work, "init.safetensors")) or BASE_WEIGHTS
    weights = os.path.join(work, "base.safetensors")
    train_parser = argparse.ArgumentParser()
    add_arguments(train_parser)
    train_args = train_parser.parse_args([
        "base", "--data", args.data, "--recipe", args.recipe, "--init", init, "--bf16", "--restart",
        "--schedule", "cosine", "--time-limit", str(args.minutes * 60), "--workdir", work,
        "--export-to", weights, *train_flags,
    ])
    print(f"leg: from {init}, {args.minutes:g} min, recipe {args.recipe}", flush=True)
    run(train_args)
    parts = split_file(weights, args.out, int(args.part_mb * 1e6))
    for name in ("base.json", "base.log.jsonl"):
        shutil.copy(os.path.join(work, name), os.path.join(args.out, name))
    shutil.rmtree(work)  # only what the next leg carries comes back
    print(f"leg: {len(parts)} parts in {args.out}; carry them into the next leg's --carry folder")
    return 0


if __name__ == "__main__":
    sys.exit(main())

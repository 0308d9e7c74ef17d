"""Cold start: a whole ``ncd encode`` and ``ncd decode`` process against a bare ``import torch``.

    python benchmarks/coldstart.py samples/kodim23-half.png --repeat 5

Runs the three commands in turn, ``--repeat`` times, each in a fresh process,
and prints the median wall times and the ratios to ``import torch`` as JSON.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(argv) -> float:
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quality", type=int, default=75)
    args = parser.parse_args(argv)
    ncd = shutil.which("ncd") or os.path.join(os.path.dirname(sys.executable), "ncd")
    folder = tempfile.mkdtemp()
    coded, decoded = os.path.join(folder, "x.ncd"), os.path.join(folder, "x.png")
    times = {"import torch": [], "ncd encode": [], "ncd decode": []}
    for _ in range(args.repeat):
        times["import torch"].append(timed([sys.executable, "-c", "import torch"]))
        times["ncd encode"].append(timed([ncd, "encode", args.image, coded, "-q", str(args.quality), "--codec", "learned",
                                          "--force", "--quiet"]))
        times["ncd decode"].append(timed([ncd, "decode", coded, decoded, "--force", "--quiet"]))
    shutil.rmtree(folder)
    medians = {k: statistics.median(v) for k, v in times.items()}
    print(json.dumps({"image": args.image, "repeat": args.repeat, "median_s": medians,
                      "encode_over_import_torch": medians["ncd encode"] / medians["import torch"],
                      "decode_over_import_torch": medians["ncd decode"] / medians["import torch"],
                      "all_s": times}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Soak run: many encode/decode round trips over threads, then over processes.

Prints resident memory (RSS) after the warm-up and at the end, and the open
file descriptors, per process; exits 1 when memory grows more than --tolerance
after the warm-up or a descriptor leaks.

    python benchmarks/soak.py samples/kodim05-half.png --size 384x256 --calls 300 --threads 2
"""

import argparse
import io
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

import ncdiff_plugin  # noqa: F401  (registers the NCD format with Pillow)
from batch_ncd.jobs import set_threads

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def round_trip(png: bytes, quality: int) -> int:
    """One encode and one decode (through Pillow, as a user would); the decoded width."""
    with Image.open(io.BytesIO(png)) as im:
        out = io.BytesIO()
        im.save(out, format="NCD", quality=quality, codec="learned")
    with Image.open(io.BytesIO(out.getvalue())) as im:
        im.load()
        return im.width


def soak(png: bytes, calls: int, threads: int, warmup: int, quality: int = 50) -> dict:
    """``calls`` encode/decode calls (half of each) on ``threads`` threads; memory after ``warmup`` calls and at the end."""
    trips, warm_trips = calls // 2, warmup // 2
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(round_trip, [png] * warm_trips, [quality] * warm_trips))
        after_warmup, files_after_warmup = rss_mb(), open_files()
        list(pool.map(round_trip, [png] * (trips - warm_trips), [quality] * (trips - warm_trips)))
    end = rss_mb()
    return {
        "pid": os.getpid(), "calls": 2 * trips, "threads": threads, "seconds": round(time.perf_counter() - t0, 1),
        "rss_after_warmup_mb": round(after_warmup, 1), "rss_end_mb": round(end, 1),
        "growth_pct": round(100 * (end - after_warmup) / after_warmup, 2),
        "open_files_after_warmup": files_after_warmup, "open_files_end": open_files(),
    }


def _soak_in_worker(args) -> dict:
    *soak_args, threads = args
    set_threads(threads)  # the cores shared out: N processes of all cores each would contend
    return soak(*soak_args)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("image")
    p.add_argument("--size", default="384x256", help="WxH the image is resized to (default 384x256)")
    p.add_argument("--calls", type=int, default=300, help="encode and decode calls per process (default 300)")
    p.add_argument("--warmup", type=int, default=30, help="calls before the first memory reading (default 30)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--processes", type=int, default=2, help="worker processes of the second part (0: skip it)")
    p.add_argument("--start-method", default="fork", choices=multiprocessing.get_all_start_methods())
    p.add_argument("--tolerance", type=float, default=5.0, help="allowed memory growth after the warm-up, %% (default 5)")
    args = p.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    with Image.open(args.image) as im:
        buf = io.BytesIO()
        im.convert("RGB").resize((width, height), Image.LANCZOS).save(buf, "PNG")
    png = buf.getvalue()

    results = [dict(soak(png, args.calls, args.threads, args.warmup), part="threads")]
    print(json.dumps(results[-1]), flush=True)
    if args.processes:
        # The parent has used the codec: the workers also show that pools of this start method work after that.
        with multiprocessing.get_context(args.start_method).Pool(args.processes) as pool:
            share = max(1, (os.cpu_count() or 1) // args.processes)
            for r in pool.map(_soak_in_worker, [(png, args.calls, 1, args.warmup, share)] * args.processes):
                results.append(dict(r, part=f"process ({args.start_method})"))
                print(json.dumps(results[-1]), flush=True)
    bad = [r for r in results if r["growth_pct"] > args.tolerance or r["open_files_end"] > r["open_files_after_warmup"]]
    print(f"{len(results) - len(bad)}/{len(results)} parts within {args.tolerance}% memory and without descriptor leaks")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

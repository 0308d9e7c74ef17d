"""The driver of a batch run: skips what is done, hands chunks of files to workers, writes what comes back.

Only the driver writes into the destination: each output atomically, then its
line in ``manifest.jsonl``.  A run killed at any point leaves whole outputs
only, and the next run with the same command removes the temporary file a
kill may have left and finishes the rest without redoing any of them.
Workers are this process (``workers=1``), local worker processes, or Ray
actors; each loads the model once and takes whole chunks.
"""

import concurrent.futures as cf
import json
import multiprocessing
import os
import time
from collections import deque
from typing import Iterable, Iterator, List, Optional, Sequence

from ncdiff_plugin import files
from ncdiff_plugin.errors import InvalidOptionError

from .jobs import Job, Settings, find_jobs, set_threads, transcode_many

MANIFEST = "manifest.jsonl"
SETTINGS_FILE = ".ncd-batch.json"


class Manifest:
    """``manifest.jsonl``: one JSON line per finished file, appended and flushed as each finishes."""

    def __init__(self, path: str):
        self.path = path
        self.records = {}
        if os.path.exists(path):
            with open(path, "rb") as f:
                raw = f.read()
            # A line cut by a kill is dropped: its file is redone, or recovered from its output.
            complete = raw[: raw.rfind(b"\n") + 1]
            if len(complete) != len(raw):
                with open(path, "r+b") as f:
                    f.truncate(len(complete))
            for line in complete.splitlines():
                record = json.loads(line)
                self.records[record["source"]] = record
        self._file = open(path, "a", encoding="utf-8")

    def add(self, record: dict) -> None:
        self.records[record["source"]] = record
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def _check_settings(dst: str, settings: Settings) -> None:
    """A destination is finished with the settings it was started with, or refused."""
    path = os.path.join(dst, SETTINGS_FILE)
    wanted = settings.as_dict()
    if os.path.exists(path):
        with open(path) as f:
            recorded = json.load(f)
        if recorded != wanted:
            changed = ", ".join(f"{k}: {recorded.get(k)!r} -> {v!r}" for k, v in wanted.items() if recorded.get(k) != v)
            raise InvalidOptionError(f"{dst} was started with other settings ({changed}): finish it with the same "
                                     "options, or write to another folder")
    else:
        files.write_bytes(path, json.dumps(wanted, indent=2).encode() + b"\n")


def _remove_killed_temps(dst: str) -> None:
    """Deletes the temporary files of a run killed mid-write; the destination is this run's alone."""
    for folder, _, names in os.walk(dst):
        for name in names:
            if files.is_temp_name(name):
                os.unlink(os.path.join(folder, name))


def _chunks(jobs: Sequence[Job], size: int) -> Iterator[List[Job]]:
    for start in range(0, len(jobs), size):
        yield list(jobs[start : start + size])


def _read(chunk: List[Job]):
    items = []
    for job in chunk:
        with open(job.source, "rb") as f:
            items.append((job.relative, f.read()))
    return items


class LocalWorkers:
    """This process (``workers=1``) or a pool of worker processes."""

    def __init__(self, workers: int, threads: int):
        self.slots = 2 * workers  # chunks in flight: one running and one waiting per worker
        self.pool = None
        if workers > 1:
            # spawn: fresh interpreters are safe whatever threads this process runs (a Ray driver, a notebook).
            self.pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                               initializer=set_threads, initargs=(threads,))
        else:
            set_threads(threads)

    def submit(self, items, settings) -> cf.Future:
        if self.pool is not None:
            return self.pool.submit(transcode_many, items, settings)
        future = cf.Future()
        future.set_result(transcode_many(items, settings))
        return future

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def run_batch(sources: Iterable[str], dst: str, settings: Settings = Settings(), *, workers: int = 1,
              threads: Optional[int] = None, chunk: int = 4, ray_address=False, progress: bool = True) -> dict:
    """Transcodes every image under ``sources`` into ``dst`` (see the module doc); returns a summary.

    ``ray_address``: False runs locally; None starts (or joins) a local Ray; a string joins that cluster.
    ``threads``: torch threads per worker (default: this machine's cores shared among the workers).
    """
    from tqdm import tqdm

    if workers < 1 or chunk < 1:
        raise InvalidOptionError("workers and chunk must be at least 1")
    sources = list(sources)
    jobs = find_jobs(sources, dst, settings.decode)
    os.makedirs(dst, exist_ok=True)
    _check_settings(dst, settings)
    _remove_killed_temps(dst)
    manifest = Manifest(os.path.join(dst, MANIFEST))
    pending, recovered = [], 0
    for job in jobs:
        output = os.path.join(dst, job.output_relative)
        if not os.path.exists(output):
            pending.append(job)
        elif job.relative not in manifest.records or manifest.records[job.relative].get("error"):
            # Written, then killed before its manifest line: the file is whole (atomic), so keep it.
            manifest.add({"source": job.relative, "output": job.output_relative, "bytes": os.path.getsize(output),
                          "error": None, "recovered": True})
            recovered += 1
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    try:
        if ray_address is False:
            runner = LocalWorkers(workers, threads)
        else:
            from .ray_runner import RayWorkers

            runner = RayWorkers(ray_address, workers, threads)
    except BaseException:
        manifest.close()
        raise
    by_key = {job.relative: job for job in pending}
    failed = done = 0
    t0 = time.perf_counter()
    bar = tqdm(total=len(pending), unit="img", desc="ncd batch", disable=not progress)
    try:
        chunks = _chunks(pending, chunk)
        in_flight = deque()
        while True:
            while len(in_flight) < runner.slots:
                next_chunk = next(chunks, None)
                if next_chunk is None:
                    break
                in_flight.append(runner.submit(_read(next_chunk), settings))
            if not in_flight:
                break
            for key, out, facts in in_flight.popleft().result():
                job = by_key[key]
                if out is not None:
                    target = os.path.join(dst, job.output_relative)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    files.write_bytes(target, out)
                    done += 1
                else:
                    failed += 1
                manifest.add(dict({"source": key, "output": job.output_relative if out is not None else None,
                                   "error": None}, **facts))
                bar.update(1)
    finally:
        bar.close()
        runner.close()
        manifest.close()
    seconds = time.perf_counter() - t0
    return {"found": len(jobs), "done": done, "failed": failed, "skipped": len(jobs) - len(pending),
            "recovered": recovered, "seconds": round(seconds, 2),
            "images_per_s": round(done / seconds, 3) if done and seconds > 0 else None,
            "workers": workers, "threads": threads, "ray": ray_address is not False}

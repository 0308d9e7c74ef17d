"""What one batch run does to each file: the list of jobs, and the transcoding of one file's bytes.

Transcoding takes bytes and returns bytes, so local worker processes and Ray
actors run the same function and only the driver touches the destination.
"""

import glob
import io
import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image

import ncdiff_plugin as ncd
from ncdiff_bench.metrics import psnr
from ncdiff_plugin.errors import InvalidOptionError

NCD_SUFFIX = ".ncd"
DECODED_SUFFIX = ".png"


@dataclass(frozen=True)
class Settings:
    """Everything that decides an output's bytes; a destination keeps the settings it was made with."""

    decode: bool = False
    quality: int = ncd.DEFAULT_QUALITY
    codec: str = "auto"
    decoder: Optional[str] = None
    steps: Optional[int] = None
    seed: Optional[int] = None
    measure_psnr: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Job:
    source: str  # path as found
    relative: str  # path below the source root, "/"-separated: the manifest's key
    output_relative: str


def _root_and_matches(src: str) -> Tuple[str, List[str]]:
    if os.path.isdir(src):
        found = [os.path.join(folder, name) for folder, _, names in os.walk(src) for name in names]
        return src, found
    if glob.has_magic(src):
        # The root is the folder part before the first wildcard: "photos/*/raw/*.jpg" -> "photos".
        parts = src.split(os.sep)
        fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
        root = os.sep.join(parts[:fixed]) or "."
        return root, [p for p in glob.glob(src, recursive=True) if os.path.isfile(p)]
    if os.path.isfile(src):
        return os.path.dirname(src) or ".", [src]
    raise InvalidOptionError(f"{src}: no such file, folder or matching glob")


def _wanted(path: str, decode: bool) -> bool:
    ext = os.path.splitext(path)[1].lower()
    if decode:
        return ext == NCD_SUFFIX
    return ext != NCD_SUFFIX and ext in Image.registered_extensions()


def find_jobs(sources: List[str], dst: str, decode: bool) -> List[Job]:
    """One job per image under ``sources`` (folders, globs, files), in a stable order.

    An image ``a/b.jpg`` below its source root becomes ``DST/a/b.ncd`` (``DST/a/b.png``
    when decoding). Two inputs that would write one output are refused before anything runs.
    """
    jobs, outputs = [], {}
    suffix = DECODED_SUFFIX if decode else NCD_SUFFIX
    dst_abs = os.path.abspath(dst)
    for src in sources:
        root, matches = _root_and_matches(src)
        for path in sorted(matches):
            if not _wanted(path, decode) or os.path.abspath(path).startswith(dst_abs + os.sep):
                continue
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            output = os.path.splitext(relative)[0] + suffix
            if output in outputs:
                raise InvalidOptionError(f"{outputs[output]} and {path} would both be written to {dst}/{output}")
            outputs[output] = path
            jobs.append(Job(path, relative, output))
    return jobs


def set_threads(threads: int) -> None:
    """torch threads of a worker: torch reads OMP_NUM_THREADS on import; set it too if already imported."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def transcode(data: bytes, settings: Settings) -> Tuple[bytes, dict]:
    """(output bytes, facts for the manifest) of one input file's bytes. Raises on a bad input."""
    t0 = time.perf_counter()
    if settings.decode:
        img = ncd.decode(data, decoder=settings.decoder, steps=settings.steps, seed=settings.seed)
        out = io.BytesIO()
        img.save(out, format="PNG")
        pixels = img.width * img.height
        facts = {"bytes": len(data), "bpp": round(8 * len(data) / pixels, 5)}
        return out.getvalue(), dict(facts, seconds=round(time.perf_counter() - t0, 3))
    try:
        img = Image.open(io.BytesIO(data))
    except Image.UnidentifiedImageError:
        raise ncd.CorruptFileError("not an image file Pillow can read") from None
    with img:
        img.load()
        encoded = ncd.encode(img, quality=settings.quality, codec=settings.codec)
        facts = {"bytes": len(encoded), "bpp": round(8 * len(encoded) / (img.width * img.height), 5),
                 "codec": ncd.inspect(encoded)["codec"]}
        seconds = time.perf_counter() - t0
        if settings.measure_psnr:
            decoded = ncd.decode(encoded, decoder=settings.decoder, steps=settings.steps, seed=settings.seed)
            facts["psnr"] = round(psnr(np.asarray(img.convert("RGB")), np.asarray(decoded.convert("RGB"))), 3)
    return encoded, dict(facts, seconds=round(seconds, 3))


def transcode_many(items: List[Tuple[str, bytes]], settings: Settings) -> List[Tuple[str, Optional[bytes], dict]]:
    """``transcode`` over (key, bytes) pairs; a bad input gives (key, None, {"error": ...}), never an exception."""
    results = []
    for key, data in items:
        try:
            out, facts = transcode(data, settings)
            results.append((key, out, facts))
        except (ncd.NCDError, OSError, ValueError, Image.DecompressionBombError) as exc:
            results.append((key, None, {"error": f"{type(exc).__name__}: {exc}"}))
    return results

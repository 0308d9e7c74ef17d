"""Whole collections through the codec: ``ncd batch`` and :func:`run_batch`.

Every image under the sources becomes ``DST/<relative path>.ncd`` (``--decode``:
``.ncd`` files become PNGs), with one line per file in ``DST/manifest.jsonl``
(source, output, bytes, bpp, PSNR if asked, seconds, error).  Outputs are
written atomically; running the same command again skips what is done; a bad
input is reported in the manifest and does not stop the run.  Workers are
local processes or Ray actors (``ray_address``), each loading the model once.
"""

from .jobs import Job, Settings, find_jobs, transcode
from .run import MANIFEST, run_batch

__all__ = ["run_batch", "Settings", "Job", "find_jobs", "transcode", "MANIFEST"]

"""Mutation fuzzing of every ``.ncd`` reader: ``python -m ncdiff_fuzz`` or ``ncd fuzz``.

Valid seed files (JPEG and learned codecs, 1 and 3 frames, L / RGB / RGBA)
are mutated -- bit flips, byte sets, truncations, inserted / dropped /
duplicated / reordered chunks, absurd chunk lengths, header and chunk fields
rewritten with a valid CRC (absurd sizes, frame counts, versions...) -- and
each mutated file goes through every entry point: ``ncd.decode``,
``ncd.decode_frames``, ``ncd.inspect``, Pillow ``Image.open`` + ``load`` (every
frame), ``cv_ncd.decode``, ``cv_ncd.imdecode``, ``ncd info`` and ``ncd decode``
(``cli.main`` in-process, into a temporary folder).

Outcomes, per entry point:

* ``error``: the documented exception (docs/format.md, "Errors by entry point");
* ``none``: ``imdecode`` returned ``None`` (cv2's habit);
* ``same``: it succeeded and gave exactly what the original file gives;
* ``meta``: it succeeded with the same pixels but other metadata (an
  ancillary chunk was dropped or altered: allowed, ancillary chunks may be);
* ``changed``: it succeeded with other pixels or structure;
* ``fail``: any other exception (``MemoryError`` included), or a CLI exit that
  is neither 0 nor a one-line ``ncd: error:`` with no file left behind;
* ``slow``: it took longer than the per-entry time limit.

A case *fails* when any entry fails, is slow, or the worker process crashes or
hangs.  A case goes to *review* when a mutation that did not re-sign its CRCs
(``crafted`` is false) still decodes to something ``changed``: corruption
that went undetected.  A ``changed`` result from a ``crafted`` mutation (a
header or chunk rewritten with a valid CRC) is a well-formed file by
construction and is counted as *accepted crafted*.

Modules: ``chunks`` (the chunk view and pure primitives, bytes in and out,
used by the test suite with hypothesis), ``mutations`` (random operators),
``seeds``, ``entry_points`` (every reader, one wrapper each), ``runner``
(cases in a worker subprocess, so that a segfault or a hang is recorded, not
fatal) and ``cli``.
"""

from .chunks import *  # noqa: F401,F403  (the primitives: the test suite's vocabulary)
from .chunks import __all__ as _chunk_names
from .entry_points import ENTRY_POINTS, reference, run_case, run_entry
from .mutations import OPERATORS, Mutation, random_mutation
from .runner import make_case, replay, run
from .seeds import build_seed, build_seeds, seed_image, seed_specs

__all__ = list(_chunk_names) + [
    "ENTRY_POINTS", "reference", "run_case", "run_entry", "OPERATORS", "Mutation", "random_mutation",
    "make_case", "replay", "run", "build_seed", "build_seeds", "seed_image", "seed_specs",
]

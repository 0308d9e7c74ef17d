"""What the runner benchmarks: a codec that encodes once per quality, and the ways to decode it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from PIL import Image


@dataclass(frozen=True)
class DecodeVariant:
    """One way to turn a codec's bytes back into pixels (e.g. ncd's ``nc`` decoder at 4 steps)."""

    decoder: str  # "pillow" for classical codecs; "base", "nc", "cdc" for ncd
    steps: Optional[int]
    device: str  # where decoding runs, as recorded in the results
    decode: Callable[[bytes], Image.Image]

    @property
    def label(self) -> str:
        return self.decoder if self.steps is None else f"{self.decoder} K={self.steps}"


@dataclass(frozen=True)
class BenchEntry:
    """A codec under test. Every decode variant reuses the same encoded bytes, so one
    ``.ncd`` file is encoded once and decoded with ``base``, ``nc`` and ``cdc``."""

    name: str
    encode: Callable[[Image.Image, int], bytes]
    variants: Tuple[DecodeVariant, ...]
    qualities: Tuple[int, ...]

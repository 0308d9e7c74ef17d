"""The ncd codec as a bench entry, reached only through the package's public API."""

from __future__ import annotations

from typing import Optional, Sequence

from .entry import BenchEntry, DecodeVariant

# Decoders that walk a number of diffusion steps; ``base`` is a single synthesis pass.
STEPPED_DECODERS = ("nc", "cdc")


def ncd_entry(
    qualities: Sequence[int],
    *,
    codec: str = "learned",
    decoders: Sequence[str] = ("base",),
    steps: Optional[Sequence[int]] = None,
    device: Optional[str] = None,
) -> BenchEntry:
    """Bench entry ``ncd`` (``codec="learned"``) or ``ncd-<codec>`` (e.g. ``ncd-jpeg``, the
    container's JPEG fallback).

    Each decoder gets one variant, or one per step count in ``steps`` for the diffusion
    decoders (``steps=None`` leaves the count to the decoder's default). ``device`` is passed
    to ``ncd.decode``; None lets the package choose and is recorded as ``"auto"``.
    """
    import ncdiff_plugin as ncd  # lazy: the bench must import without the codec's dependencies

    def encode(img, quality: int) -> bytes:
        return ncd.encode(img, quality=int(quality), codec=codec)

    def decoder_for(decoder: str, k: Optional[int]):
        def decode(data: bytes):
            return ncd.decode(data, decoder=decoder, steps=k, device=device).convert("RGB")

        return decode

    variants = []
    for decoder in decoders:
        step_counts = steps if (steps and decoder in STEPPED_DECODERS) else [None]
        for k in step_counts:
            variants.append(DecodeVariant(decoder, k, device or "auto", decoder_for(decoder, k)))
    name = "ncd" if codec == "learned" else f"ncd-{codec}"
    return BenchEntry(name=name, encode=encode, variants=tuple(variants), qualities=tuple(qualities))

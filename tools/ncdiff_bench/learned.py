"""The ncd codec as a bench entry, reached only through the package's public API."""

from __future__ import annotations

import re
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

from .entry import BenchEntry, DecodeVariant

_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)(?:\[(?P<options>[^\]]*)\])?$")


def _value(text: str):
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_decoder(spec: str) -> Tuple[str, Dict[str, object]]:
    """``"nc[guidance=0.05;freq_filter=0]"`` -> ``("nc", {"guidance": 0.05, "freq_filter": 0})``:
    a decoder and the extra ``ncd.decode`` options of one bench curve (for ablations)."""
    match = _SPEC.match(spec.strip())
    if not match:
        raise ValueError(f"bad decoder spec {spec!r}: expected NAME or NAME[key=value;...]")
    options = {}
    for item in filter(None, (match["options"] or "").split(";")):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"bad decoder option {item!r} in {spec!r}: expected key=value")
        options[key.strip()] = _value(value.strip())
    return match["name"], options


def ncd_entry(
    qualities: Sequence[int],
    *,
    codec: str = "learned",
    decoders: Sequence[str] = ("base",),
    steps: Union[None, Sequence[int], Mapping[str, Sequence[int]]] = None,
    device: Optional[str] = None,
) -> BenchEntry:
    """Bench entry ``ncd`` (``codec="learned"``) or ``ncd-<codec>`` (e.g. ``ncd-jpeg``, the
    container's JPEG fallback).

    Each decoder gets one variant, or one per step count in ``steps`` for the diffusion
    decoders (``steps=None`` leaves the count to the decoder's default; a mapping gives each
    decoder spec, or every spec of a decoder name, its own counts). A decoder may carry
    options, ``"nc[freq_filter=0]"`` (see ``parse_decoder``). ``device`` is passed to
    ``ncd.decode``; None lets the package choose and is recorded as ``"auto"``.
    """
    import ncdiff_plugin as ncd  # lazy: the bench must import without the codec's dependencies

    def encode(img, quality: int) -> bytes:
        return ncd.encode(img, quality=int(quality), codec=codec)

    def decoder_for(name: str, options: dict, k: Optional[int]):
        def decode(data: bytes):
            return ncd.decode(data, decoder=name, steps=k, device=device, **options).convert("RGB")

        return decode

    def walks_steps(name: str) -> bool:
        chosen = ncd.get_codecs().get(codec)
        return chosen is not None and chosen.decoder_steps(name) is not None

    variants = []
    for decoder in decoders:
        name, options = parse_decoder(decoder)
        # A mapping's key is a decoder spec ("nc[kappa=0.05]") or, for all of that name, "nc".
        counts = steps.get(decoder, steps.get(name)) if isinstance(steps, Mapping) else steps
        step_counts = counts if (counts and walks_steps(name)) else [None]
        for k in step_counts:
            variants.append(DecodeVariant(decoder, k, device or "auto", decoder_for(name, options, k)))
    name = "ncd" if codec == "learned" else f"ncd-{codec}"
    return BenchEntry(name=name, encode=encode, variants=tuple(variants), qualities=tuple(qualities))

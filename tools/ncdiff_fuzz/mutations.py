"""Random mutations: weighted operators over the primitives of :mod:`.chunks`."""

import random
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple

from ncdiff_plugin.container import FRAME_LAYOUT, SIGNATURE, TILE_LAYOUT

from .chunks import (
    chunk_body, chunk_kind, chunk_spans, drop_chunk, duplicate_chunk, flip_bit, header_fields,
    insert_bytes, insert_chunk, make_chunk, move_chunk, resign, rewrite_chunk, rewrite_frame, rewrite_header,
    set_byte, set_chunk_kind, set_chunk_length, swap_chunks, truncate,
)

@dataclass
class Mutation:
    data: bytes
    description: str
    #: True when the mutation re-signed a CRC: the result is a well-formed
    #: file by construction, and decoding it to other pixels is acceptable.
    crafted: bool = False
    #: True when only ancillary (metadata) chunks were dropped / moved / altered.
    ancillary: bool = False


INTERESTING_32 = (0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 47, 48, 49, 63, 64, 65, 127, 128, 255, 256,
                  1000, 4095, 4096, 13_000, 65_535, 65_536, 100_000, 100_001, 2**24, 2**31 - 1, 2**31,
                  2**32 - 2, 2**32 - 1)
INTERESTING_8 = (0, 1, 2, 0x20, 0x41, 0x61, 0x7F, 0x80, 0xFE, 0xFF)
KNOWN_KINDS = (b"NHDR", b"FRAM", b"TILE", b"DATA", b"ALPH", b"NEND", b"eXIf", b"iCCP", b"xMPd")
OTHER_KINDS = (b"tEXt", b"zzzz", b"ZZZZ", b"nhdr", b"Data", b"NENd", b"aBcD")


def _int32(rng: random.Random, near: int = 0) -> int:
    r = rng.random()
    if r < 0.6:
        return rng.choice(INTERESTING_32)
    if r < 0.85:
        return max(0, near + rng.randint(-3, 3))
    return rng.getrandbits(32)


def _is_ancillary(kind: bytes) -> bool:
    return len(kind) == 4 and bool(kind[0] & 0x20) and kind not in KNOWN_KINDS[:5]


def _pick_chunk(rng, data, spans, kinds=None):
    choices = [i for i, s in enumerate(spans) if kinds is None or chunk_kind(data, s) in kinds]
    return rng.choice(choices) if choices else None


def _desc_chunk(data, spans, i):
    return f"chunk {i} ({chunk_kind(data, spans[i]).decode('latin-1')})"


def m_bit_flips(data, rng, others):
    n = rng.choice((1, 1, 1, 2, 3, 8))
    bits = sorted(rng.randrange(len(data) * 8) for _ in range(n))
    for b in bits:
        data = flip_bit(data, b)
    return Mutation(data, f"flip bits {bits}")


def m_set_bytes(data, rng, others):
    changes = []
    for _ in range(rng.choice((1, 1, 2, 4))):
        pos, value = rng.randrange(len(data)), rng.choice(INTERESTING_8 + (rng.randrange(256),))
        data = set_byte(data, pos, value)
        changes.append((pos, value))
    return Mutation(data, f"set bytes {changes}")


def m_truncate(data, rng, others):
    spans = chunk_spans(data)
    r = rng.random()
    if r < 0.4 and spans:
        s = rng.choice(spans)
        n = rng.choice(s) + rng.randint(-12, 12)
    elif r < 0.5:
        n = rng.randint(0, len(SIGNATURE) + 4)
    else:
        n = rng.randrange(len(data))
    n = max(0, min(len(data) - 1, n))
    return Mutation(truncate(data, n), f"truncate to {n} of {len(data)} bytes")


def m_length(data, rng, others):
    spans = chunk_spans(data)
    i = rng.randrange(len(spans))
    actual = spans[i][1] - spans[i][0] - 12
    left = len(data) - spans[i][0] - 12
    value = rng.choice((_int32(rng, actual), actual + rng.randint(-4, 4), left, left - 4, left + 1, 2**31 - 1, 2**32 - 1))
    value = max(0, value) & 0xFFFFFFFF
    return Mutation(set_chunk_length(data, i, value), f"length of {_desc_chunk(data, spans, i)} {actual} -> {value}",
                    ancillary=value == actual)


def m_kind(data, rng, others):
    spans = chunk_spans(data)
    i = rng.randrange(len(spans))
    kind = rng.choice(KNOWN_KINDS + OTHER_KINDS + (bytes(rng.randrange(256) for _ in range(4)),))
    fix = rng.random() < 0.5
    out = set_chunk_kind(data, i, kind, fix_crc=fix)
    return Mutation(resign(out) if fix else out,
                    f"type of {_desc_chunk(data, spans, i)} -> {kind!r}{' (CRC fixed)' if fix else ''}", crafted=fix)


def m_drop(data, rng, others):
    spans = chunk_spans(data)
    i = rng.randrange(len(spans))
    return Mutation(drop_chunk(data, i), f"drop {_desc_chunk(data, spans, i)}",
                    ancillary=_is_ancillary(chunk_kind(data, spans[i])))


def m_duplicate(data, rng, others):
    spans = chunk_spans(data)
    i = rng.randrange(len(spans))
    return Mutation(duplicate_chunk(data, i), f"duplicate {_desc_chunk(data, spans, i)}",
                    ancillary=_is_ancillary(chunk_kind(data, spans[i])))


def m_swap(data, rng, others):
    spans = chunk_spans(data)
    if len(spans) < 2:
        return m_bit_flips(data, rng, others)
    r = rng.random()
    kinds = {chunk_kind(data, s) for s in spans}
    if r < 0.5 and (b"DATA" in kinds or b"ALPH" in kinds):
        # The interesting reorders: payloads between or within frames.
        kind = rng.choice([k for k in (b"DATA", b"ALPH") if k in kinds])
        same = [n for n, s in enumerate(spans) if chunk_kind(data, s) == kind]
        if len(same) >= 2:
            i, j = rng.sample(same, 2)
        else:
            i, j = rng.sample(range(len(spans)), 2)
    else:
        i, j = rng.sample(range(len(spans)), 2)
    both_anc = _is_ancillary(chunk_kind(data, spans[i])) and _is_ancillary(chunk_kind(data, spans[j]))
    if rng.random() < 0.7:
        return Mutation(swap_chunks(data, i, j), f"swap {_desc_chunk(data, spans, i)} and {_desc_chunk(data, spans, j)}",
                        ancillary=both_anc)
    return Mutation(move_chunk(data, i, j), f"move {_desc_chunk(data, spans, i)} to position {j}",
                    ancillary=_is_ancillary(chunk_kind(data, spans[i])))


def _random_record(data, rng, others) -> Tuple[bytes, str, bool]:
    r = rng.random()
    if r < 0.35 and others:
        # A chunk from another seed file (valid CRC, plausible content).
        other = rng.choice(others)
        spans = chunk_spans(other)
        s = rng.choice(spans)
        kind = chunk_kind(other, s)
        return other[s[0] : s[1]], f"{kind.decode('latin-1')} chunk of another file", _is_ancillary(kind)
    kind = rng.choice(KNOWN_KINDS + OTHER_KINDS)
    size = rng.choice((0, 1, 4, 16, rng.randrange(64)))
    if kind == b"FRAM" and rng.random() < 0.7:
        body = FRAME_LAYOUT.pack(_int32(rng) if rng.random() < 0.3 else rng.randrange(4), rng.randrange(-5, 5000), rng.randrange(100))
    elif kind == b"TILE" and rng.random() < 0.7:
        # Plausible boxes: on and off the 64-pixel grid, inside and outside the image.
        body = TILE_LAYOUT.pack(*(rng.choice((0, 32, 64, 96, 128, _int32(rng))) for _ in range(4)))
    elif kind == b"NHDR" and rng.random() < 0.7 and chunk_spans(data):
        body = chunk_body(data, chunk_spans(data)[0])
    else:
        body = bytes(rng.randrange(256) for _ in range(size))
    return make_chunk(kind, body), f"new {kind.decode('latin-1')} chunk of {len(body)} bytes", _is_ancillary(kind)


def m_insert(data, rng, others):
    spans = chunk_spans(data)
    record, what, anc = _random_record(data, rng, others)
    if rng.random() < 0.85 or not spans:
        i = rng.randint(0, len(spans))
        return Mutation(insert_chunk(data, i, record), f"insert {what} at chunk {i}", ancillary=anc)
    pos = rng.randrange(len(data))
    return Mutation(insert_bytes(data, pos, record), f"insert {what} at byte {pos}")


def m_trailing(data, rng, others):
    blob = rng.choice((b"\x00", b"junk", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))),
                       make_chunk(b"NEND", b""), make_chunk(b"tEXt", b"x")))
    # Data after NEND is ignored by design (as after PNG's IEND): a harmless edit.
    return Mutation(data + blob, f"append {len(blob)} bytes after NEND", ancillary=True)


def m_header(data, rng, others):
    """Header fields other than the payload geometry, with a valid CRC."""
    try:
        fields = header_fields(data)
    except ValueError:
        return m_bit_flips(data, rng, others)
    changes = {}
    for _ in range(rng.choice((1, 1, 2))):
        name = rng.choice(("major", "minor", "frame_count", "flags", "tb_num", "tb_den", "fps_num", "fps_den",
                           "mode", "codec_id", "plugin", "model_id", "weights_hash", "extra", "minor_extra"))
        if name in ("major", "minor", "flags"):
            changes[name] = rng.choice(INTERESTING_8 + (fields[name] + 1,))
        elif name == "minor_extra":
            changes["minor"] = rng.choice((1, 2, 255))
            changes["extra"] = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12)))
        elif name == "frame_count":
            changes[name] = _int32(rng, fields[name])
        elif name in ("tb_num", "tb_den", "fps_num", "fps_den"):
            changes[name] = _int32(rng, fields[name])
        elif name == "mode":
            changes[name] = rng.choice((b"L", b"LA", b"RGB", b"RGBA", b"P", b"", b"RGBX", b"I;16", b"\xff", b"RGB" * 90))
        elif name == "codec_id":
            changes[name] = rng.choice((b"jpeg", b"learned", b"", b"nope", b"\xffbad", b"x" * 255))
        elif name in ("plugin", "model_id"):
            changes[name] = rng.choice((b"", b"x" * 255, b"\x80\x81", fields[name][:-1], b"base"))
        elif name == "weights_hash":
            changes[name] = rng.choice((bytes(32), b"\xff" * 32, bytes(31), bytes(33)))
        else:
            changes[name] = rng.choice((b"\x00", bytes(4), b"abc"))
    pretty = {k: (v[:12] + b"..." if isinstance(v, bytes) and len(v) > 12 else v) for k, v in changes.items()}
    return Mutation(rewrite_header(data, **changes), f"header {pretty} (CRC fixed)", crafted=True)


def m_geometry(data, rng, others):
    """Width, height or quality rewritten with a valid CRC: the payload no longer matches."""
    try:
        fields = header_fields(data)
    except ValueError:
        return m_bit_flips(data, rng, others)
    changes = {}
    if rng.random() < 0.2:
        # A small file claiming a large image that is still within the default pixel limit.
        changes["width"], changes["height"] = rng.choice(((1920, 1080), (4000, 4000), (8192, 8192), (13_000, 13_000),
                                                          (65_535, 2_700), (1, 100_000_000)))
    for name in rng.sample(("width", "height", "quality"), rng.choice((0, 1, 1, 2)) if changes else rng.choice((1, 1, 2, 3))):
        if name == "quality":
            changes[name] = rng.choice((0, 1, 101, 255, fields[name] + 1, max(1, fields[name] - 1), rng.randint(1, 100)))
        else:
            changes[name] = _int32(rng, fields[name])
    data = rewrite_header(data, **changes)
    desc = f"header {changes}"
    if rng.random() < 0.25:
        # ...and payload streams that cannot hold that many symbols.
        how = rng.choice(("emptied", "zeroed", "halved"))
        for i, span in enumerate(chunk_spans(data)):
            if chunk_kind(data, span) == b"DATA":
                body = chunk_body(data, span)
                body = b"" if how == "emptied" else bytes(8) if how == "zeroed" else body[: len(body) // 2]
                data = rewrite_chunk(data, i, body)
        data = resign(data)
        desc += f", DATA chunks {how}"
    return Mutation(data, desc + " (CRC fixed)", crafted=True)


def m_frame_fields(data, rng, others):
    spans = chunk_spans(data)
    i = _pick_chunk(rng, data, spans, (b"FRAM",))
    if i is None:
        return m_header(data, rng, others)
    name = rng.choice(("frame_index", "pts", "duration"))
    value = _int32(rng) if name != "pts" else rng.choice((-(2**63), -1, 2**63 - 1, _int32(rng)))
    return Mutation(resign(rewrite_frame(data, i, **{name: value})), f"{name} of {_desc_chunk(data, spans, i)} -> {value} (CRC fixed)",
                    crafted=True)


def m_payload(data, rng, others):
    """A DATA / ALPH / metadata chunk's content changed, with a valid CRC."""
    spans = chunk_spans(data)
    i = _pick_chunk(rng, data, spans, (b"DATA", b"ALPH", b"eXIf", b"iCCP", b"xMPd"))
    if i is None:
        return m_header(data, rng, others)
    body = chunk_body(data, spans[i])
    r = rng.random()
    if r < 0.3 and body:
        pos = rng.randrange(len(body))
        new, what = body[:pos] + bytes([body[pos] ^ (1 << rng.randrange(8))]) + body[pos + 1 :], f"bit flip at {pos}"
    elif r < 0.5:
        n = rng.randrange(len(body) + 1)
        new, what = body[:n], f"cut to {n} bytes"
    elif r < 0.65:
        new, what = b"", "emptied"
    elif r < 0.8:
        new, what = bytes(rng.randrange(256) for _ in range(rng.choice((1, 8, 64, len(body))))), "random bytes"
    else:
        pos = rng.randrange(len(body) + 1)
        new, what = body[:pos] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32))) + body[pos:], f"bytes inserted at {pos}"
    kind = chunk_kind(data, spans[i])
    return Mutation(resign(rewrite_chunk(data, i, new)), f"{_desc_chunk(data, spans, i)} {what} (CRCs fixed)", crafted=True,
                    ancillary=_is_ancillary(kind))


#: name -> (weight, operator)
OPERATORS: Dict[str, Tuple[float, Callable]] = {
    "bit_flips": (18, m_bit_flips),
    "set_bytes": (8, m_set_bytes),
    "truncate": (10, m_truncate),
    "length": (8, m_length),
    "kind": (5, m_kind),
    "drop": (7, m_drop),
    "duplicate": (5, m_duplicate),
    "swap": (8, m_swap),
    "insert": (7, m_insert),
    "trailing": (3, m_trailing),
    "header": (9, m_header),
    "geometry": (5, m_geometry),
    "frame_fields": (3, m_frame_fields),
    "payload": (6, m_payload),
}


def random_mutation(data: bytes, rng: random.Random, others: Sequence[bytes] = (), exclude: Sequence[str] = (),
                    stack: Optional[int] = None) -> Mutation:
    """One to three random mutations of ``data`` (``exclude``: operator names to skip)."""
    names = [n for n in OPERATORS if n not in exclude]
    weights = [OPERATORS[n][0] for n in names]
    if stack is None:
        stack = rng.choices((1, 2, 3), (80, 15, 5))[0]
    result = Mutation(data, "", False, True)
    parts = []
    for _ in range(stack):
        if not result.data or not chunk_spans(result.data):
            name = "bit_flips" if result.data else "trailing"
        else:
            name = rng.choices(names, weights)[0]
        step = OPERATORS[name][1](result.data, rng, others)
        parts.append(step.description)
        result = Mutation(step.data, "; ".join(parts), result.crafted or step.crafted, result.ancillary and step.ancillary)
    return result

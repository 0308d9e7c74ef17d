"""Mutation fuzzing of every ``.ncd`` reader: ``python -m ncdiff_plugin.fuzz``.

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

The mutation primitives are pure functions of bytes, used by the test suite
(tests/test_robustness.py) with hypothesis; the runner executes cases in a
worker subprocess so that a segfault or a hang is recorded, not fatal.
"""

import argparse
import contextlib
import faulthandler
import hashlib
import io
import json
import os
import random
import select
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .container import SIGNATURE

# -- chunk-level view of a file ----------------------------------------------------------

Span = Tuple[int, int]  # [start, end) of a whole chunk record: length, type, data, crc


def chunk_spans(data: bytes) -> List[Span]:
    """The well-formed chunk records after the 8-byte signature, in order.

    Lenient: stops at the first record that does not fit in the data.
    """
    spans, pos = [], len(SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        end = pos + 12 + length
        if end > len(data):
            break
        spans.append((pos, end))
        pos = end
    return spans


def chunk_kind(data: bytes, span: Span) -> bytes:
    return data[span[0] + 4 : span[0] + 8]


def chunk_body(data: bytes, span: Span) -> bytes:
    return data[span[0] + 8 : span[1] - 4]


def make_chunk(kind: bytes, body: bytes) -> bytes:
    """A chunk record with a valid CRC (any length, any type)."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _records(data: bytes):
    spans = chunk_spans(data)
    tail_start = spans[-1][1] if spans else len(SIGNATURE)
    return data[: len(SIGNATURE)], [data[s:e] for s, e in spans], data[tail_start:]


def _join(head: bytes, records: Sequence[bytes], tail: bytes) -> bytes:
    return head + b"".join(records) + tail


# -- pure mutation primitives ------------------------------------------------------------


def flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def set_byte(data: bytes, pos: int, value: int) -> bytes:
    out = bytearray(data)
    out[pos] = value
    return bytes(out)


def truncate(data: bytes, length: int) -> bytes:
    return data[:length]


def insert_bytes(data: bytes, pos: int, blob: bytes) -> bytes:
    return data[:pos] + blob + data[pos:]


def insert_chunk(data: bytes, index: int, record: bytes) -> bytes:
    head, records, tail = _records(data)
    records.insert(index, record)
    return _join(head, records, tail)


def drop_chunk(data: bytes, index: int) -> bytes:
    head, records, tail = _records(data)
    del records[index]
    return _join(head, records, tail)


def duplicate_chunk(data: bytes, index: int) -> bytes:
    head, records, tail = _records(data)
    records.insert(index, records[index])
    return _join(head, records, tail)


def swap_chunks(data: bytes, i: int, j: int) -> bytes:
    head, records, tail = _records(data)
    records[i], records[j] = records[j], records[i]
    return _join(head, records, tail)


def move_chunk(data: bytes, i: int, j: int) -> bytes:
    head, records, tail = _records(data)
    records.insert(j, records.pop(i))
    return _join(head, records, tail)


def set_chunk_length(data: bytes, index: int, length: int) -> bytes:
    """Overwrites a chunk's length field (not covered by the CRC)."""
    start = chunk_spans(data)[index][0]
    return data[:start] + struct.pack(">I", length & 0xFFFFFFFF) + data[start + 4 :]


def set_chunk_kind(data: bytes, index: int, kind: bytes, fix_crc: bool = False) -> bytes:
    span = chunk_spans(data)[index]
    if fix_crc:
        return rewrite_chunk(data, index, chunk_body(data, span), kind=kind)
    return data[: span[0] + 4] + kind + data[span[0] + 8 :]


def rewrite_chunk(data: bytes, index: int, body: bytes, kind: Optional[bytes] = None) -> bytes:
    """Replaces a chunk's data (and optionally its type), with a valid CRC."""
    span = chunk_spans(data)[index]
    record = make_chunk(kind or chunk_kind(data, span), body)
    return data[: span[0]] + record + data[span[1] :]


_HEAD = struct.Struct(">BBIIIBBIIII")
_HEAD_FIELDS = ("major", "minor", "width", "height", "frame_count", "quality", "flags",
                "tb_num", "tb_den", "fps_num", "fps_den")
_STR_FIELDS = ("mode", "codec_id", "plugin", "model_id")


def header_fields(data: bytes) -> dict:
    """The raw NHDR fields of a file whose first chunk is a well-formed NHDR (else ValueError)."""
    spans = chunk_spans(data)
    if not spans or chunk_kind(data, spans[0]) != b"NHDR":
        raise ValueError("the first chunk is not an NHDR")
    body = chunk_body(data, spans[0])
    if len(body) < _HEAD.size:
        raise ValueError("the NHDR is too short")
    fields = dict(zip(_HEAD_FIELDS, _HEAD.unpack_from(body)))
    pos = _HEAD.size
    for name in _STR_FIELDS:
        if pos >= len(body):
            raise ValueError("the NHDR is too short")
        n = body[pos]
        fields[name] = body[pos + 1 : pos + 1 + n]
        pos += 1 + n
    fields["weights_hash"] = body[pos : pos + 32]
    pos += 32
    fields["sequence_crc"] = None
    if fields["minor"] >= 1 and len(body) >= pos + 4:
        (fields["sequence_crc"],) = struct.unpack_from(">I", body, pos)
        pos += 4
    fields["extra"] = body[pos:]
    return fields


def encode_raw_header(fields: dict) -> bytes:
    """An NHDR body from raw fields: any 8/32-bit values, any strings (clipped to 255 bytes)."""
    ints = [fields[name] & (0xFF if name in ("major", "minor", "quality", "flags") else 0xFFFFFFFF)
            for name in _HEAD_FIELDS]
    out = _HEAD.pack(*ints)
    for name in _STR_FIELDS:
        raw = bytes(fields[name])[:255]
        out += bytes([len(raw)]) + raw
    crc = fields.get("sequence_crc")
    seq = b"" if crc is None else struct.pack(">I", crc & 0xFFFFFFFF)
    return out + bytes(fields["weights_hash"]) + seq + bytes(fields.get("extra", b""))


def rewrite_header(data: bytes, **changes) -> bytes:
    """The file with NHDR fields changed (raw values, so absurd ones too) and a valid CRC."""
    fields = header_fields(data)
    unknown = set(changes) - set(fields)
    if unknown:
        raise TypeError(f"unknown header fields {sorted(unknown)}")
    fields.update(changes)
    return rewrite_chunk(data, 0, encode_raw_header(fields))


def resign(data: bytes) -> bytes:
    """The file with its header's sequence checksum recomputed (format 1.1), if it has one.

    With each chunk's CRC and this one valid, a mutated file is well-formed by
    construction: only its meaning can be wrong.
    """
    from .container import sequence_checksum

    try:
        fields = header_fields(data)
    except ValueError:
        return data
    if fields["sequence_crc"] is None:
        return data
    crcs = [data[e - 4 : e] for s, e in chunk_spans(data)[1:] if data[s + 4 : s + 8] in (b"FRAM", b"DATA", b"ALPH")]
    return rewrite_header(data, sequence_crc=sequence_checksum(crcs))


_FRAME = struct.Struct(">IqI")


def rewrite_frame(data: bytes, index: int, frame_index=None, pts=None, duration=None) -> bytes:
    """A FRAM chunk (chunk number ``index``) with fields changed and a valid CRC."""
    body = chunk_body(data, chunk_spans(data)[index])
    old = _FRAME.unpack(body) if len(body) == _FRAME.size else (0, 0, 0)
    new = (old[0] if frame_index is None else frame_index & 0xFFFFFFFF,
           old[1] if pts is None else max(-2**63, min(2**63 - 1, pts)),
           old[2] if duration is None else duration & 0xFFFFFFFF)
    return rewrite_chunk(data, index, _FRAME.pack(*new))


# -- random mutations --------------------------------------------------------------------


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
KNOWN_KINDS = (b"NHDR", b"FRAM", b"DATA", b"ALPH", b"NEND", b"eXIf", b"iCCP", b"xMPd")
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
        body = _FRAME.pack(_int32(rng) if rng.random() < 0.3 else rng.randrange(4), rng.randrange(-5, 5000), rng.randrange(100))
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


# -- seed files --------------------------------------------------------------------------

SEED_SIZE = (48, 32)


def seed_image(mode: str, variant: int = 0, size=SEED_SIZE):
    """A deterministic test picture (gradients, edges and a disc), different per variant."""
    import numpy as np
    from PIL import Image

    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = (x * 255 / max(w - 1, 1) + 40 * variant) % 256
    g = (y * 255 / max(h - 1, 1) + 80 * variant) % 256
    b = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2, 230 - 60 * variant, 30 + 20 * variant)
    b = np.where(((x // 8 + y // 8 + variant) % 2) == 0, b, b / 2)
    rgb = Image.fromarray(np.dstack([r, g, b]).astype(np.uint8), "RGB")
    if mode == "RGB":
        return rgb
    if mode == "L":
        return rgb.convert("L")
    out = rgb.convert(mode[:-1])
    alpha = ((x + y * 3 + 50 * variant) % 256).astype(np.uint8)
    out.putalpha(Image.fromarray(alpha, "L"))
    return out


def seed_specs(codecs: Sequence[str]) -> List[Tuple[str, str, str, int]]:
    """(name, codec, mode, frames) of the seed files."""
    specs = []
    for codec in codecs:
        combos = [("RGB", 1), ("L", 1), ("RGBA", 1), ("RGB", 3)]
        if codec == "jpeg":
            combos += [("L", 3), ("RGBA", 3), ("LA", 1)]
        specs += [(f"{codec}-{mode}-{n}f", codec, mode, n) for mode, n in combos]
    return specs


def build_seed(codec: str, mode: str, frames: int, size=SEED_SIZE) -> bytes:
    from fractions import Fraction

    from . import api

    images = [seed_image(mode, v, size) for v in range(frames)]
    meta = {}
    if frames == 1 and mode == "RGB":
        from PIL import Image

        exif = Image.Exif()
        exif[0x010F] = "ncdiff-fuzz"
        exif[0x0112] = 1
        meta = dict(exif=exif, icc_profile=b"\x00\x00\x01\x00fuzz-icc", xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if frames == 1:
            return api.encode(images[0], quality=60, codec=codec, **meta)
        return api.encode_frames(images, quality=60, codec=codec, durations=[40, 50, 60], fps=Fraction(25), **meta)


def build_seeds(codecs: Sequence[str] = ("jpeg", "learned"), size=SEED_SIZE) -> Dict[str, bytes]:
    return {name: build_seed(codec, mode, n, size) for name, codec, mode, n in seed_specs(codecs)}


# -- entry points ------------------------------------------------------------------------

ENTRY_POINTS = ("decode", "decode_frames", "inspect", "pillow", "cv_decode", "cv_imdecode", "cli_info", "cli_decode")


class Documented(Exception):
    """Raised by an entry wrapper when the entry point refused the file as documented."""


class Unexpected(Exception):
    """Raised by an entry wrapper when an entry point misbehaved without an exception."""


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _image_fp(img) -> str:
    return _digest(img.mode, img.size, img.tobytes())


def _meta_fp(info: dict) -> str:
    return _digest(*(bytes(info.get(k) or b"") for k in ("exif", "icc_profile", "xmp")))


def _ncd_error(exc) -> bool:
    from .errors import NCDError

    return isinstance(exc, NCDError)


def _refused_as_documented(call, *args):
    """``call(*args)``, with an NCDError (a documented refusal) turned into Documented."""
    from .errors import NCDError

    try:
        return call(*args)
    except NCDError as exc:
        raise Documented(exc) from None


def e_decode(data: bytes, workdir: str):
    from . import api

    img = _refused_as_documented(api.decode, data)
    return _image_fp(img), _meta_fp(img.info)


def e_decode_frames(data: bytes, workdir: str):
    from . import api

    imgs = _refused_as_documented(api.decode_frames, data)
    return (_digest(*[(_image_fp(i), i.info.get("pts"), i.info.get("duration")) for i in imgs]),
            _digest(*[_meta_fp(i.info) for i in imgs]))


_VOLATILE = ("chunks", "file_bytes", "bpp", "metadata")


def _structure_fp(info: dict):
    return _digest(json.dumps({k: v for k, v in info.items() if k not in _VOLATILE}, sort_keys=True)), \
        _digest(json.dumps(info["metadata"], sort_keys=True))


def e_inspect(data: bytes, workdir: str):
    from . import api

    info = _refused_as_documented(api.inspect, data)
    return _structure_fp(info)


def e_pillow(data: bytes, workdir: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "NCD":
                raise Documented(f"opened as {im.format}")
            parts, meta = [], _meta_fp(im.info)
            for i in range(getattr(im, "n_frames", 1)):
                im.seek(i)
                im.load()
                parts.append((_image_fp(im), im.info.get("timestamp"), im.info.get("duration")))
            return _digest(im.size, im.mode, *parts), meta
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise Documented(exc) from None
    except Documented:
        raise
    except Exception as exc:
        if _ncd_error(exc):
            raise Documented(exc) from None
        raise


def e_cv_decode(data: bytes, workdir: str):
    import numpy as np

    import cv_ncd

    try:
        arr = cv_ncd.decode(np.frombuffer(data, np.uint8))
    except Exception as exc:
        import cv2

        if isinstance(exc, cv_ncd.error) and _ncd_error(exc) and isinstance(exc, cv2.error):
            raise Documented(exc) from None
        raise
    return _digest(arr.shape, arr.dtype.str, arr.tobytes()), ""


def e_cv_imdecode(data: bytes, workdir: str):
    import numpy as np

    import cv_ncd

    try:
        arr = cv_ncd.imdecode(np.frombuffer(data, np.uint8), cv_ncd.IMREAD_UNCHANGED)
    except Exception as exc:
        import cv2

        if not data and isinstance(exc, cv2.error):
            raise Documented(f"cv2 refuses an empty buffer: {exc}") from None
        raise
    if arr is None:
        return None
    return _digest(arr.shape, arr.dtype.str, arr.tobytes()), ""


def _run_cli(argv: List[str]):
    from . import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    return rc, out.getvalue(), err.getvalue()


def _check_cli_error(rc, err, workdir, output=None):
    if rc != 1:
        raise Unexpected(f"exit status {rc}, stderr {err[-300:]!r}")
    lines = err.strip().splitlines()
    if len(lines) != 1 or not lines[0].startswith("ncd: error: "):
        raise Unexpected(f"stderr is not one 'ncd: error:' line: {err[-300:]!r}")
    if output and os.path.exists(output):
        raise Unexpected("a failed decode left its output file")
    leftovers = [n for n in os.listdir(workdir) if n.startswith(".ncd-")]
    if leftovers:
        raise Unexpected(f"temporary files left behind: {leftovers}")
    raise Documented(lines[0])


def _write_input(data: bytes, workdir: str) -> str:
    path = os.path.join(workdir, "in.ncd")
    with open(path, "wb") as f:
        f.write(data)
    return path


def e_cli_info(data: bytes, workdir: str):
    path = _write_input(data, workdir)
    rc, out, err = _run_cli(["info", path])
    if rc != 0:
        _check_cli_error(rc, err, workdir)
    rc, out, err = _run_cli(["info", path, "--json"])
    if rc != 0:
        raise Unexpected(f"'ncd info' succeeded but 'ncd info --json' exited {rc}: {err[-300:]!r}")
    return _structure_fp(json.loads(out))


def e_cli_decode(data: bytes, workdir: str):
    from PIL import Image

    path = _write_input(data, workdir)
    output = os.path.join(workdir, "out.png")
    if os.path.exists(output):
        os.unlink(output)
    rc, out, err = _run_cli(["decode", path, output, "--quiet"])
    if rc != 0:
        _check_cli_error(rc, err, workdir, output)
    try:
        with Image.open(output) as im:
            im.load()
            return _image_fp(im), _digest(im.info.get("icc_profile") or b"")
    finally:
        os.unlink(output)


ENTRY_FUNCS = {
    "decode": e_decode, "decode_frames": e_decode_frames, "inspect": e_inspect, "pillow": e_pillow,
    "cv_decode": e_cv_decode, "cv_imdecode": e_cv_imdecode, "cli_info": e_cli_info, "cli_decode": e_cli_decode,
}


@dataclass
class EntryResult:
    status: str  # error / none / same / meta / changed / fail / slow
    detail: str
    seconds: float


@dataclass
class CaseResult:
    verdict: str  # pass / review / fail
    entries: Dict[str, EntryResult] = field(default_factory=dict)
    seconds: float = 0.0
    slowest_entry: str = ""

    def summary(self) -> str:
        bad = [f"{n}: {r.status} ({r.detail})" for n, r in self.entries.items() if r.status in ("fail", "slow", "changed", "meta")]
        return "; ".join(bad) or "ok"


def run_entry(name: str, data: bytes, workdir: str):
    """(status, detail or fingerprints, seconds) of one entry point on one file."""
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = ENTRY_FUNCS[name](data, workdir)
        status, detail = ("none", "None") if result is None else ("ok", result)
    except Documented as exc:
        status, detail = "error", f"{type(exc.args[0]).__name__ if exc.args and isinstance(exc.args[0], BaseException) else 'refused'}: {str(exc)[:160]}"
    except Unexpected as exc:
        status, detail = "fail", str(exc)[:300]
    except Exception as exc:  # MemoryError, RecursionError... all are failures
        status, detail = "fail", f"{type(exc).__name__}: {str(exc)[:240]}"
    return status, detail, time.perf_counter() - t0


def reference(data: bytes, workdir: str, entries: Sequence[str] = ENTRY_POINTS) -> Dict[str, tuple]:
    """Fingerprints of every entry point's result on a valid file."""
    ref = {}
    for name in entries:
        status, detail, _ = run_entry(name, data, workdir)
        if status != "ok":
            raise RuntimeError(f"{name} fails on the unmutated seed: {status} {detail}")
        ref[name] = detail
    return ref


def run_case(mutation: Mutation, ref: Dict[str, tuple], workdir: str, timeout: float = 5.0,
             entries: Sequence[str] = ENTRY_POINTS) -> CaseResult:
    """Runs one mutated file through the entry points and classifies the outcome."""
    result = CaseResult(verdict="pass")
    for name in entries:
        status, detail, seconds = run_entry(name, mutation.data, workdir)
        if status == "ok":
            pix, meta = detail
            if pix != ref[name][0]:
                status, detail = "changed", "decoded to other pixels / structure"
            elif meta != ref[name][1]:
                status, detail = "meta", "same pixels, other metadata"
            else:
                status, detail = "same", ""
        if seconds > timeout and status != "fail":
            status, detail = "slow", f"{seconds:.2f} s (limit {timeout} s); outcome {status} {detail}"
        result.entries[name] = EntryResult(status, detail, seconds)
        result.seconds += seconds
        if not result.slowest_entry or seconds > result.entries[result.slowest_entry].seconds:
            result.slowest_entry = name
    statuses = {r.status for r in result.entries.values()}
    if statuses & {"fail", "slow"}:
        result.verdict = "fail"
    elif "changed" in statuses and not mutation.crafted:
        result.verdict = "review"
    elif "meta" in statuses and not (mutation.crafted or mutation.ancillary):
        result.verdict = "review"
    return result


# -- the runner --------------------------------------------------------------------------


def make_case(seeds: Dict[str, bytes], seed: int, index: int, learned_share: float = 0.15,
              ops: Sequence[str] = ()) -> Tuple[str, Mutation]:
    """The deterministic case ``index`` of run ``seed``: (seed file name, mutation).

    ``ops`` restricts the mutation operators (names of :data:`OPERATORS`)."""
    rng = random.Random(f"ncd-fuzz:{seed}:{index}")
    names = sorted(seeds)
    learned = [n for n in names if n.startswith("learned-")]
    other = [n for n in names if n not in learned]
    pool = learned if learned and (not other or rng.random() < learned_share) else other
    name = rng.choice(pool)
    others = [seeds[n] for n in names if n != name]
    exclude = [n for n in OPERATORS if n not in ops] if ops else ()
    return name, random_mutation(seeds[name], rng, others, exclude=exclude)


def _worker(folder: str, seed: int, timeout: float, learned_share: float, ops: Sequence[str] = ()) -> int:
    """Reads case numbers on stdin, writes one JSON result per line."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints (C or Python) must not corrupt the protocol
    sys.stdout = sys.stderr
    seeds = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".ncd"):
            with open(os.path.join(folder, name), "rb") as f:
                seeds[name[:-4]] = f.read()
    workdir = tempfile.mkdtemp(prefix="ncd-fuzz-work-")
    refs = {name: reference(data, workdir) for name, data in seeds.items()}
    out.write(json.dumps({"ready": True}) + "\n")
    hard_limit = timeout * len(ENTRY_POINTS) + 10
    for line in sys.stdin:
        index = int(line)
        name, mutation = make_case(seeds, seed, index, learned_share, ops)
        faulthandler.dump_traceback_later(hard_limit, exit=True)
        try:
            res = run_case(mutation, refs[name], workdir, timeout)
        finally:
            faulthandler.cancel_dump_traceback_later()
        out.write(json.dumps({
            "case": index, "verdict": res.verdict, "seconds": res.seconds, "slowest_entry": res.slowest_entry,
            "summary": res.summary(), "statuses": {n: r.status for n, r in res.entries.items()},
            "slowest_entry_seconds": res.entries[res.slowest_entry].seconds if res.slowest_entry else 0.0,
            "details": {n: r.detail for n, r in res.entries.items() if r.status in ("error", "fail", "slow")},
        }) + "\n")
    return 0


class _Worker:
    def __init__(self, folder, seed, timeout, learned_share, log, ops=()):
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONFAULTHANDLER="1")
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ncdiff_plugin.fuzz", "--worker", folder, "--seed", str(seed),
             "--timeout", str(timeout), "--learned-share", str(learned_share), "--ops", ",".join(ops)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True, bufsize=1,
        )
        ready = self.read(600)
        if not isinstance(ready, dict) or not ready.get("ready"):
            raise RuntimeError("the fuzz worker did not start (see its log)")

    def read(self, limit):
        """The next result; "timeout" when none came in ``limit`` s, "exited" when the worker died."""
        ready, _, _ = select.select([self.proc.stdout], [], [], limit)
        if not ready:
            return "timeout"
        line = self.proc.stdout.readline()
        if not line:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            return "exited"
        return json.loads(line)

    def kill(self):
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()


def _crash_report(path: str, offset: int) -> str:
    """The fatal error and Python stack the worker's faulthandler wrote since ``offset``."""
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    keep = [line for line in text.splitlines() if line.startswith(("Fatal Python error", "Timeout", "Thread", "Current thread", "  File"))]
    return "\n".join(keep[:14])


def run(cases: int, seed: int = 0, codecs: Sequence[str] = ("jpeg", "learned"), timeout: float = 5.0,
        learned_share: float = 0.15, start: int = 0, verbose: bool = False, ops: Sequence[str] = ()) -> dict:
    """Runs cases [start, start + cases) in a worker subprocess; prints and returns the figures."""
    from .plugins import get_codecs

    available = [c for c in codecs if c in get_codecs() and get_codecs()[c].unavailable_reason() is None]
    skipped = sorted(set(codecs) - set(available))
    t_start = time.perf_counter()
    folder = tempfile.mkdtemp(prefix="ncd-fuzz-seeds-")
    seeds = build_seeds(available)
    for name, data in seeds.items():
        with open(os.path.join(folder, name + ".ncd"), "wb") as f:
            f.write(data)
    print(f"ncd fuzz: seed {seed}, cases {start}..{start + cases - 1}, codecs {','.join(available)}"
          f"{' (unavailable: ' + ','.join(skipped) + ')' if skipped else ''}, timeout {timeout} s per entry point"
          f"{', operators ' + ','.join(ops) if ops else ''}")
    print("seed files: " + ", ".join(f"{n} ({len(d)} B)" for n, d in sorted(seeds.items())))
    log_path = os.path.join(folder, "worker.log")
    log = open(log_path, "ab")
    worker = _Worker(folder, seed, timeout, learned_share, log, ops)
    hard_limit = timeout * len(ENTRY_POINTS) + 20
    counts = {"pass": 0, "review": 0, "fail": 0}
    crafted_accepted = 0
    per_entry: Dict[str, Dict[str, int]] = {n: {} for n in ENTRY_POINTS}
    per_seed: Dict[str, int] = {}
    failures, reviews = [], []
    slowest = (0.0, None, "", "")
    slowest_completed = (0.0, None, "", "")
    for index in range(start, start + cases):
        name, mutation = make_case(seeds, seed, index, learned_share, ops)
        per_seed[name] = per_seed.get(name, 0) + 1
        log.flush()
        log_offset = os.path.getsize(log_path)
        worker.proc.stdin.write(f"{index}\n")
        worker.proc.stdin.flush()
        t0 = time.perf_counter()
        res = worker.read(hard_limit)
        wall = time.perf_counter() - t0
        if not isinstance(res, dict):
            worker.kill()
            log.flush()
            report = _crash_report(log_path, log_offset)
            if res == "timeout" or report.startswith("Timeout"):
                how = f"hang (no answer in {wall:.0f} s; the watchdog stopped it)"
            else:
                code = worker.proc.returncode
                how = f"crash after {wall:.1f} s (worker exit status {code}" + (f", signal {-code})" if code and code < 0 else ")")
            failures.append((index, name, mutation.description, how + ("\n" + textwrap.indent(report, "      ") if report else "")))
            counts["fail"] += 1
            if wall > slowest[0]:
                slowest = (wall, index, name, mutation.description + f" [{how}]")
            worker = _Worker(folder, seed, timeout, learned_share, log, ops)
            continue
        counts[res["verdict"]] += 1
        for entry, status in res["statuses"].items():
            per_entry[entry][status] = per_entry[entry].get(status, 0) + 1
        if res["verdict"] == "pass" and mutation.crafted and "changed" in res["statuses"].values():
            crafted_accepted += 1
        if res["verdict"] == "fail":
            failures.append((index, name, mutation.description, res["summary"]))
        elif res["verdict"] == "review":
            reviews.append((index, name, mutation.description, res["summary"]))
        if res["seconds"] > slowest[0]:
            slowest = (res["seconds"], index, name, f"{mutation.description} [slowest entry point: "
                                                    f"{res['slowest_entry']}, {res['slowest_entry_seconds']:.3f} s]")
        if res["seconds"] > slowest_completed[0]:
            slowest_completed = (res["seconds"], index, name, slowest[3] if slowest[1] == index else
                                 f"{mutation.description} [slowest entry point: {res['slowest_entry']}, "
                                 f"{res['slowest_entry_seconds']:.3f} s]")
        if verbose:
            print(f"  #{index} {name}: {mutation.description} -> {res['verdict']} {res['summary']}")
        done = index - start + 1
        if done % 500 == 0:
            print(f"  ... {done} cases, {counts['fail']} failures, {counts['review']} to review, "
                  f"{time.perf_counter() - t_start:.0f} s", flush=True)
    worker.proc.stdin.close()
    worker.kill()
    log.close()
    elapsed = time.perf_counter() - t_start
    print(f"cases tried: {cases}")
    print(f"failures: {counts['fail']}")
    print(f"to review (undetected corruption that decoded to other pixels): {counts['review']}")
    print(f"accepted crafted files (re-signed CRCs, decoded to other pixels): {crafted_accepted}")
    if slowest[1] is not None:
        print(f"slowest case: #{slowest[1]}, {slowest[0]:.3f} s over the {len(ENTRY_POINTS)} entry points, "
              f"{slowest[2]}: {slowest[3]}")
    if slowest_completed[1] is not None and slowest_completed[1] != slowest[1]:
        print(f"slowest case that completed: #{slowest_completed[1]}, {slowest_completed[0]:.3f} s, "
              f"{slowest_completed[2]}: {slowest_completed[3]}")
    print("cases per seed file: " + ", ".join(f"{n} {c}" for n, c in sorted(per_seed.items())))
    print("outcomes per entry point:")
    for entry, stats in per_entry.items():
        print(f"  {entry:13} " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())))
    for title, rows in (("FAILURES", failures), ("TO REVIEW", reviews)):
        if rows:
            print(f"{title} (reproduce one with: python -m ncdiff_plugin.fuzz --seed {seed} --case N):")
            for index, name, desc, summary in rows[:50]:
                print(f"  #{index} {name}: {desc}\n      {summary}")
            if len(rows) > 50:
                print(f"  ... {len(rows) - 50} more")
    print(f"wall time: {elapsed:.0f} s")
    return {"cases": cases, "failures": counts["fail"], "review": counts["review"], "crafted_accepted": crafted_accepted,
            "slowest": slowest[:3], "slowest_completed": slowest_completed[:3], "failure_list": failures,
            "review_list": reviews}


def replay(index: int, seed: int = 0, codecs: Sequence[str] = ("jpeg", "learned"), timeout: float = 5.0,
           learned_share: float = 0.15, dump: Optional[str] = None, ops: Sequence[str] = ()) -> int:
    """Runs one case in this process and prints every entry point's outcome."""
    from .plugins import get_codecs

    available = [c for c in codecs if c in get_codecs() and get_codecs()[c].unavailable_reason() is None]
    seeds = build_seeds(available)
    name, mutation = make_case(seeds, seed, index, learned_share, ops)
    print(f"case #{index} (seed {seed}): {name}: {mutation.description}"
          f"{' [crafted]' if mutation.crafted else ''}{' [ancillary]' if mutation.ancillary else ''}")
    if dump:
        with open(dump, "wb") as f:
            f.write(mutation.data)
        print(f"mutated file written to {dump}")
    with tempfile.TemporaryDirectory() as workdir:
        ref = reference(seeds[name], workdir)
        res = run_case(mutation, ref, workdir, timeout)
    for entry, r in res.entries.items():
        print(f"  {entry:13} {r.status:8} {r.seconds:7.3f} s  {r.detail}")
    print(f"verdict: {res.verdict}")
    return 0 if res.verdict != "fail" else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ncdiff_plugin.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=1000, help="number of cases (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="run seed: the same seed gives the same cases")
    p.add_argument("--start", type=int, default=0, help="first case number (default 0)")
    p.add_argument("--codecs", default="jpeg,learned", help="codecs of the seed files (default jpeg,learned)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds allowed per entry point and case (default 5)")
    p.add_argument("--learned-share", type=float, default=0.15, help="share of cases on learned seeds (default 0.15)")
    p.add_argument("--ops", default="", help=f"only these mutation operators (comma-separated: {', '.join(OPERATORS)})")
    p.add_argument("--case", type=int, help="replay one case in-process, with every entry point's outcome")
    p.add_argument("--dump", help="with --case: write the mutated file here")
    p.add_argument("-v", "--verbose", action="store_true", help="print every case")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    codecs = [c.strip() for c in args.codecs.split(",") if c.strip()]
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = set(ops) - set(OPERATORS)
    if unknown:
        p.error(f"unknown operators {sorted(unknown)}; choose from {', '.join(OPERATORS)}")
    if args.worker:
        return _worker(args.worker, args.seed, args.timeout, args.learned_share, ops)
    if args.case is not None:
        return replay(args.case, args.seed, codecs, args.timeout, args.learned_share, args.dump, ops)
    figures = run(args.cases, args.seed, codecs, args.timeout, args.learned_share, args.start, args.verbose, ops)
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

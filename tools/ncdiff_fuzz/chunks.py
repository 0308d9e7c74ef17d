"""The chunk-level view of an ``.ncd`` file and pure mutation primitives (bytes in, bytes out).

Layouts come from :mod:`ncdiff_plugin.container`; only CRC-valid rewriting is added here.
"""

import struct
from typing import List, Optional, Sequence, Tuple

from ncdiff_plugin import container
from ncdiff_plugin.container import SIGNATURE

__all__ = [
    "Span", "chunk_spans", "chunk_kind", "chunk_body", "make_chunk", "flip_bit", "set_byte", "truncate",
    "insert_bytes", "insert_chunk", "drop_chunk", "duplicate_chunk", "swap_chunks", "move_chunk", "set_chunk_length",
    "set_chunk_kind", "rewrite_chunk", "header_fields", "encode_raw_header", "rewrite_header", "resign", "rewrite_frame",
]

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


make_chunk = container.make_chunk  # any type, any data, a valid CRC


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




def header_fields(data: bytes) -> dict:
    """The raw NHDR fields of a file whose first chunk is a well-formed NHDR (else ValueError)."""
    spans = chunk_spans(data)
    if not spans or chunk_kind(data, spans[0]) != b"NHDR":
        raise ValueError("the first chunk is not an NHDR")
    body = chunk_body(data, spans[0])
    if len(body) < container.HEADER_LAYOUT.size:
        raise ValueError("the NHDR is too short")
    fields = dict(zip(container.HEADER_NUMBERS, container.HEADER_LAYOUT.unpack_from(body)))
    pos = container.HEADER_LAYOUT.size
    for name in container.HEADER_STRINGS:
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
            for name in container.HEADER_NUMBERS]
    out = container.HEADER_LAYOUT.pack(*ints)
    for name in container.HEADER_STRINGS:
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
    try:
        fields = header_fields(data)
    except ValueError:
        return data
    if fields["sequence_crc"] is None:
        return data
    crcs = [data[e - 4 : e] for s, e in chunk_spans(data)[1:] if data[s + 4 : s + 8] in (b"FRAM", b"TILE", b"DATA", b"ALPH")]
    return rewrite_header(data, sequence_crc=container.sequence_checksum(crcs))




def rewrite_frame(data: bytes, index: int, frame_index=None, pts=None, duration=None) -> bytes:
    """A FRAM chunk (chunk number ``index``) with fields changed and a valid CRC."""
    body = chunk_body(data, chunk_spans(data)[index])
    old = container.FRAME_LAYOUT.unpack(body) if len(body) == container.FRAME_LAYOUT.size else (0, 0, 0)
    new = (old[0] if frame_index is None else frame_index & 0xFFFFFFFF,
           old[1] if pts is None else max(-2**63, min(2**63 - 1, pts)),
           old[2] if duration is None else duration & 0xFFFFFFFF)
    return rewrite_chunk(data, index, container.FRAME_LAYOUT.pack(*new))

"""Reading and writing the chunked ``.ncd`` container (spec: docs/format.md).

Pure Python and cheap: no codec, no pixel buffers.  Every size is checked
against the data actually present and against the limits in
:mod:`ncdiff_plugin.options` before anything is allocated for it.
"""

import io
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import BinaryIO, List, Optional

from PIL.Image import DecompressionBombWarning

from . import options
from .errors import (
    ChecksumError,
    CorruptFileError,
    ImageTooLargeError,
    NotNCDError,
    TruncatedError,
    UnsupportedVersionError,
)

SIGNATURE = b"\x8bNCD\r\n\x1a\n"
#: Written as 1.1, or 1.2 when a frame is coded in tiles (``TILE`` chunks).
VERSION = (1, 2)
MODES = ("L", "LA", "RGB", "RGBA")
# A chunk's data is at most this long (the length field is 31 bits, as in PNG).
MAX_CHUNK_BYTES = 2**31 - 1

HEADER, FRAME, TILE, DATA, ALPHA, END = b"NHDR", b"FRAM", b"TILE", b"DATA", b"ALPH", b"NEND"
METADATA = {b"eXIf": "exif", b"iCCP": "icc_profile", b"xMPd": "xmp"}

#: NHDR: the numbers (HEADER_NUMBERS), then the strings (HEADER_STRINGS, each a length byte and
#: ASCII), the 32-byte weights hash and, from version 1.1, the sequence checksum.
HEADER_LAYOUT = struct.Struct(">BBIIIBBIIII")
HEADER_NUMBERS = ("major", "minor", "width", "height", "frame_count", "quality", "flags",
                  "tb_num", "tb_den", "fps_num", "fps_den")
HEADER_STRINGS = ("mode", "codec_id", "plugin", "model_id")
#: FRAM: frame index, pts, duration.
FRAME_LAYOUT = struct.Struct(">IqI")
#: TILE: left, top, width, height in image pixels.
TILE_LAYOUT = struct.Struct(">IIII")


@dataclass
class Header:
    width: int
    height: int
    mode: str
    quality: int
    codec_id: str
    plugin: str = ""
    model_id: str = ""
    weights_hash: bytes = bytes(32)
    frame_count: int = 1
    time_base: Fraction = Fraction(1, 1000)
    fps: Optional[Fraction] = None
    version: tuple = VERSION
    #: Version 1.1: CRC-32 binding every FRAM / DATA / ALPH chunk to its place
    #: (see :func:`sequence_checksum`); ``None`` for 1.0 files.
    sequence_crc: Optional[int] = None


@dataclass
class Tile:
    """A rectangle of a frame coded on its own: its box in image pixels and its payload streams."""

    left: int
    top: int
    width: int
    height: int
    payloads: List[bytes] = field(default_factory=list)

    @property
    def box(self) -> tuple:
        return (self.left, self.top, self.width, self.height)


@dataclass
class Frame:
    #: The codec's payload streams, or a list of :class:`Tile` for a frame coded in tiles.
    payloads: list
    pts: int = 0
    duration: int = 0
    alpha: Optional[bytes] = None

    @property
    def tiles(self) -> Optional[List[Tile]]:
        """The tiles of a tiled frame, None for a frame coded whole."""
        return self.payloads if self.payloads and isinstance(self.payloads[0], Tile) else None

    def streams(self) -> List[bytes]:
        """Every payload stream of the frame, tile after tile."""
        tiles = self.tiles
        return [p for t in tiles for p in t.payloads] if tiles is not None else list(self.payloads)


@dataclass
class Container:
    header: Header
    metadata: dict = field(default_factory=dict)  # exif / icc_profile / xmp -> bytes
    frames: List[Frame] = field(default_factory=list)
    chunks: list = field(default_factory=list)  # (type, offset, length) as read


def _str8(value: str, what: str) -> bytes:
    raw = value.encode("ascii")
    if len(raw) > 255:
        raise ValueError(f"{what} is longer than 255 bytes")
    return bytes([len(raw)]) + raw


def encode_header(h: Header) -> bytes:
    """NHDR data: version ``h.version`` (1.1 or 1.2) with the sequence checksum, 1.0 when it is unknown."""
    fps_num, fps_den = (h.fps.numerator, h.fps.denominator) if h.fps else (0, 0)
    if len(h.weights_hash) != 32:
        raise ValueError("weights_hash must be 32 bytes (sha256)")
    minor = 0 if h.sequence_crc is None else h.version[1]
    return (
        HEADER_LAYOUT.pack(
            VERSION[0], minor, h.width, h.height, h.frame_count, h.quality, 0,
            h.time_base.numerator, h.time_base.denominator, fps_num, fps_den,
        )
        + _str8(h.mode, "mode")
        + _str8(h.codec_id, "codec id")
        + _str8(h.plugin, "plugin")
        + _str8(h.model_id, "model id")
        + h.weights_hash
        + (b"" if h.sequence_crc is None else struct.pack(">I", h.sequence_crc))
    )


def make_chunk(kind: bytes, data: bytes) -> bytes:
    """One chunk record: length, type, data, CRC-32 of type and data."""
    if len(data) > MAX_CHUNK_BYTES:
        raise ValueError(f"{kind.decode()} chunk over {MAX_CHUNK_BYTES} bytes")
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def sequence_checksum(crcs, value: int = 0) -> int:
    """CRC-32 of the 4-byte CRCs of the FRAM, TILE, DATA and ALPH chunks, in file order.

    Each chunk's own CRC proves its contents; this one proves their order and
    number, so that a payload moved to another frame or stream, duplicated,
    inserted or dropped is detected although every chunk is intact.
    """
    for crc in crcs:
        value = zlib.crc32(crc, value)
    return value


def check_limits(width: int, height: int, frames: int, warn: bool = True) -> None:
    """The decompression-bomb guard of :mod:`ncdiff_plugin.options`, as Pillow's: one frame's pixels and
    the pixels of all frames warn over their limit and are refused over twice it; frames are refused over
    ``MAX_FRAMES``.  Writers pass ``warn=False``: a file is only refused there if readers would refuse it."""
    if options.MAX_FRAMES is not None and frames > options.MAX_FRAMES:
        raise ImageTooLargeError(
            f"file declares {frames} frames, over the limit of {options.MAX_FRAMES} (ncdiff_plugin.options.MAX_FRAMES)"
        )
    for pixels, limit, what, name in (
        (width * height, options.MAX_IMAGE_PIXELS, f"image size {width}x{height}", "MAX_IMAGE_PIXELS"),
        (width * height * frames, options.MAX_TOTAL_PIXELS, f"{frames} frames of {width}x{height}", "MAX_TOTAL_PIXELS"),
    ):
        if limit is None or pixels <= limit:
            continue
        if pixels > 2 * limit:
            raise ImageTooLargeError(
                f"{what} ({pixels} pixels) exceeds twice the limit of {limit} pixels "
                f"(ncdiff_plugin.options.{name}): it could be a decompression bomb"
            )
        if warn:
            warnings.warn(f"{what} ({pixels} pixels) exceeds the limit of {limit} pixels "
                          f"(ncdiff_plugin.options.{name}): it could be a decompression bomb",
                          DecompressionBombWarning, stacklevel=3)


def check_tile(box, width: int, height: int) -> None:
    """A tile is a non-empty rectangle inside the image."""
    left, top, w, h = box
    if w < 1 or h < 1 or left + w > width or top + h > height:
        raise CorruptFileError(f"tile {list(box)} is empty or outside the {width}x{height} image")


def write(container: Container) -> bytes:
    """Serialises a container (header frame_count and sequence checksum are computed).

    A file readers would refuse (:func:`check_limits`) is not written.
    """
    h = container.header
    h.frame_count = len(container.frames)
    check_limits(h.width, h.height, h.frame_count, warn=False)
    frames = []
    for index, frame in enumerate(container.frames):
        if not frame.payloads:
            raise ValueError("a frame needs at least one payload")
        frames.append(make_chunk(FRAME, FRAME_LAYOUT.pack(index, frame.pts, frame.duration)))
        for tile in frame.tiles or [None]:
            if tile is not None:
                check_tile(tile.box, h.width, h.height)
                if not tile.payloads:
                    raise ValueError("a tile needs at least one payload")
                frames.append(make_chunk(TILE, TILE_LAYOUT.pack(*tile.box)))
            frames.extend(make_chunk(DATA, bytes(p)) for p in (tile.payloads if tile else frame.payloads))
        if frame.alpha is not None:
            frames.append(make_chunk(ALPHA, bytes(frame.alpha)))
    h.version = (VERSION[0], 2 if any(f.tiles for f in container.frames) else 1)
    h.sequence_crc = sequence_checksum(record[-4:] for record in frames)
    out = [SIGNATURE, make_chunk(HEADER, encode_header(h))]
    for kind, key in METADATA.items():
        if container.metadata.get(key):
            out.append(make_chunk(kind, bytes(container.metadata[key])))
    out.extend(frames)
    out.append(make_chunk(END, b""))
    return b"".join(out)


# -- reading ------------------------------------------------------------------


_PIECE = 1 << 24


def _read_exact(fp: BinaryIO, n: int, what: str) -> bytes:
    if n <= _PIECE:
        data = fp.read(n)
    else:
        # In pieces, so that a length read from the file (checked against the
        # file size only when the stream can tell it) allocates no more than
        # the data actually present.
        buf = bytearray()
        while len(buf) < n:
            piece = fp.read(min(_PIECE, n - len(buf)))
            if not piece:
                break
            buf += piece
        data = bytes(buf)
    if len(data) != n:
        raise TruncatedError(f"file is truncated: {what} needs {n} bytes, {len(data)} left")
    return data


def _remaining(fp: BinaryIO) -> Optional[int]:
    try:
        pos = fp.tell()
        end = fp.seek(0, io.SEEK_END)
        fp.seek(pos)
        return end - pos
    except (OSError, AttributeError, ValueError):
        return None


def _read_chunk(fp: BinaryIO):
    """(type, data, offset) of the next chunk, CRC checked."""
    return _read_chunk_crc(fp)[:3]


def _read_chunk_crc(fp: BinaryIO):
    """(type, data, offset, the 4 CRC bytes) of the next chunk, CRC checked."""
    offset = fp.tell()
    head = _read_exact(fp, 8, "a chunk header")
    length, kind = struct.unpack(">I", head[:4])[0], head[4:]
    if not all(65 <= c <= 90 or 97 <= c <= 122 for c in kind):
        raise CorruptFileError(f"invalid chunk type {kind!r} at offset {offset}")
    if length > MAX_CHUNK_BYTES:
        raise CorruptFileError(f"{kind.decode()} chunk length {length} is over the format's limit")
    left = _remaining(fp)
    if left is not None and length + 4 > left:
        raise TruncatedError(
            f"file is truncated: {kind.decode()} chunk at offset {offset} declares {length} bytes, {max(left - 4, 0)} left"
        )
    data = _read_exact(fp, length, f"the {kind.decode()} chunk")
    raw_crc = _read_exact(fp, 4, "a chunk CRC")
    if zlib.crc32(kind + data) != struct.unpack(">I", raw_crc)[0]:
        raise ChecksumError(f"CRC mismatch in the {kind.decode()} chunk at offset {offset}: the file is corrupt")
    return kind, data, offset, raw_crc


def _parse_str8(data: bytes, pos: int, what: str):
    if pos >= len(data):
        raise CorruptFileError(f"header ends before the {what}")
    n = data[pos]
    raw = data[pos + 1 : pos + 1 + n]
    if len(raw) != n:
        raise CorruptFileError(f"header ends inside the {what}")
    try:
        return raw.decode("ascii"), pos + 1 + n
    except UnicodeDecodeError:
        raise CorruptFileError(f"the {what} in the header is not ASCII") from None


def decode_header(data: bytes) -> Header:
    if len(data) < 2:
        raise CorruptFileError("header chunk is too short")
    major, minor = data[0], data[1]
    if major != VERSION[0]:
        raise UnsupportedVersionError(
            f"file format version {major}.{minor} is not supported (this reader knows {VERSION[0]}.x): upgrade ncdiff"
        )
    if len(data) < HEADER_LAYOUT.size:
        raise CorruptFileError("header chunk is too short")
    (_, _, width, height, frames, quality, _flags, tb_num, tb_den, fps_num, fps_den) = HEADER_LAYOUT.unpack_from(data)
    pos = HEADER_LAYOUT.size
    mode, pos = _parse_str8(data, pos, "mode")
    codec_id, pos = _parse_str8(data, pos, "codec id")
    plugin, pos = _parse_str8(data, pos, "plugin name")
    model_id, pos = _parse_str8(data, pos, "model id")
    weights_hash = data[pos : pos + 32]
    if len(weights_hash) != 32:
        raise CorruptFileError("header ends inside the weights hash")
    end, sequence_crc = pos + 32, None
    if minor >= 1:
        if len(data) < end + 4:
            raise CorruptFileError("header ends inside the sequence checksum")
        (sequence_crc,) = struct.unpack_from(">I", data, end)
        end += 4
    # A newer minor version may append fields: they are ignored here.
    if minor <= VERSION[1] and len(data) != end:
        raise CorruptFileError("header chunk has trailing bytes")
    if width < 1 or height < 1:
        raise CorruptFileError(f"invalid image size {width}x{height}")
    if frames < 1:
        raise CorruptFileError("file declares no frames")
    check_limits(width, height, frames)
    if mode not in MODES:
        raise CorruptFileError(f"unknown image mode {mode!r} in the header")
    if not 1 <= quality <= 100:
        raise CorruptFileError(f"quality {quality} in the header is outside 1..100")
    if tb_num == 0 or tb_den == 0 or (fps_den == 0) != (fps_num == 0):
        raise CorruptFileError("invalid time base or frame rate in the header")
    if not codec_id:
        raise CorruptFileError("header names no codec")
    return Header(
        width=width, height=height, mode=mode, quality=quality, codec_id=codec_id,
        plugin=plugin, model_id=model_id, weights_hash=bytes(weights_hash), frame_count=frames,
        time_base=Fraction(tb_num, tb_den), fps=Fraction(fps_num, fps_den) if fps_den else None,
        version=(major, minor), sequence_crc=sequence_crc,
    )


def _as_stream(source) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    return source


def read_head(source) -> Container:
    """Signature, header and metadata chunks: everything before the first frame.

    Reads no pixel payload; the stream is left at the first FRAM chunk.
    """
    fp = _as_stream(source)
    sig = fp.read(len(SIGNATURE))
    if sig != SIGNATURE:
        if len(sig) < len(SIGNATURE) and SIGNATURE.startswith(sig) and sig:
            raise TruncatedError("file is truncated inside the signature")
        raise NotNCDError("not an .ncd file (bad signature)")
    kind, data, offset = _read_chunk(fp)
    if kind != HEADER:
        raise CorruptFileError(f"first chunk is {kind.decode()}, expected NHDR")
    container = Container(header=decode_header(data), chunks=[(kind.decode(), offset, len(data))])
    while True:
        pos = fp.tell()
        head = fp.read(8)
        fp.seek(pos)
        if len(head) == 8 and head[4:] in (FRAME, END):
            return container
        kind, data, offset = _read_chunk(fp)
        container.chunks.append((kind.decode(), offset, len(data)))
        if kind in METADATA:
            if METADATA[kind] in container.metadata:
                raise CorruptFileError(f"duplicate {kind.decode()} chunk")
            container.metadata[METADATA[kind]] = data
        elif kind in (HEADER, TILE, DATA, ALPHA):
            raise CorruptFileError(f"{kind.decode()} chunk before the first frame")
        elif not kind[0] & 0x20:
            raise CorruptFileError(f"unknown critical chunk {kind.decode()}")
        # Unknown ancillary chunks (lower-case first letter) are skipped.


def peek_frame(fp: BinaryIO):
    """(pts, duration) of the FRAM chunk at the stream's position, which is kept."""
    pos = fp.tell()
    try:
        kind, data, offset = _read_chunk(fp)
    finally:
        fp.seek(pos)
    if kind != FRAME or len(data) != FRAME_LAYOUT.size:
        raise CorruptFileError(f"expected a FRAM chunk at offset {offset}")
    _, pts, duration = FRAME_LAYOUT.unpack(data)
    return pts, duration


def _check_frame_done(frame: Optional[Frame], index: int) -> None:
    """A frame (and its last tile) that ends has at least one DATA chunk."""
    if frame is not None and (not frame.payloads or (frame.tiles and not frame.payloads[-1].payloads)):
        raise CorruptFileError(f"frame {index} has no DATA chunk" if not frame.payloads else
                               f"the last tile of frame {index} has no DATA chunk")


def read(source) -> Container:
    """Parses a whole file, checking structure, CRCs and frame count."""
    fp = _as_stream(source)
    container = read_head(fp)
    frame = None
    sequence = 0
    while True:
        kind, data, offset, crc = _read_chunk_crc(fp)
        container.chunks.append((kind.decode(), offset, len(data)))
        if kind in (FRAME, TILE, DATA, ALPHA):
            sequence = sequence_checksum((crc,), sequence)
        if kind == FRAME:
            if len(data) != FRAME_LAYOUT.size:
                raise CorruptFileError(f"FRAM chunk at offset {offset} has length {len(data)}, expected {FRAME_LAYOUT.size}")
            index, pts, duration = FRAME_LAYOUT.unpack(data)
            if index != len(container.frames):
                raise CorruptFileError(f"frame index {index} out of order (expected {len(container.frames)})")
            if index >= container.header.frame_count:
                raise CorruptFileError(f"more frames than the {container.header.frame_count} the header declares")
            _check_frame_done(frame, len(container.frames) - 1)
            frame = Frame(payloads=[], pts=pts, duration=duration)
            container.frames.append(frame)
        elif kind == TILE:
            if frame is None or frame.alpha is not None or (frame.payloads and frame.tiles is None):
                raise CorruptFileError(f"misplaced TILE chunk at offset {offset}")
            if frame.payloads and not frame.payloads[-1].payloads:
                raise CorruptFileError(f"tile before offset {offset} has no DATA chunk")
            if len(data) != TILE_LAYOUT.size:
                raise CorruptFileError(f"TILE chunk at offset {offset} has length {len(data)}, expected {TILE_LAYOUT.size}")
            box = TILE_LAYOUT.unpack(data)
            check_tile(box, container.header.width, container.header.height)
            frame.payloads.append(Tile(*box))
        elif kind == DATA:
            if frame is None or frame.alpha is not None:
                raise CorruptFileError(f"DATA chunk at offset {offset} outside a frame")
            (frame.payloads[-1].payloads if frame.tiles else frame.payloads).append(data)
        elif kind == ALPHA:
            if frame is None or frame.alpha is not None:
                raise CorruptFileError(f"misplaced ALPH chunk at offset {offset}")
            _check_frame_done(frame, len(container.frames) - 1)
            if container.header.mode not in ("LA", "RGBA"):
                raise CorruptFileError(f"ALPH chunk in a {container.header.mode} image")
            frame.alpha = data
        elif kind == END:
            if data:
                raise CorruptFileError("NEND chunk is not empty")
            break
        elif kind in METADATA or kind == HEADER:
            raise CorruptFileError(f"{kind.decode()} chunk after the first frame")
        elif not kind[0] & 0x20:
            raise CorruptFileError(f"unknown critical chunk {kind.decode()}")
    _check_frame_done(frame, len(container.frames) - 1)
    if len(container.frames) != container.header.frame_count:
        raise CorruptFileError(
            f"header declares {container.header.frame_count} frames, file holds {len(container.frames)}"
        )
    for i, f in enumerate(container.frames):
        if container.header.mode in ("LA", "RGBA") and f.alpha is None:
            raise CorruptFileError(f"frame {i} of a {container.header.mode} image has no ALPH chunk")
    expected = container.header.sequence_crc
    if expected is not None and sequence != expected:
        raise ChecksumError(
            "sequence checksum mismatch: FRAM / TILE / DATA / ALPH chunks are out of order, duplicated, "
            "inserted or missing although each is intact: the file is corrupt"
        )
    return container

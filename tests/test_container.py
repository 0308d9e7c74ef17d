"""The .ncd container: structure, limits and every bad-input error."""

import struct
import time
import warnings
import zlib

import pytest
from PIL import Image

import ncdiff_plugin as ncd
from ncdiff_plugin import container, options


def _file(sample_rgb, **kw):
    return ncd.encode(sample_rgb, quality=50, codec="jpeg", **kw)


def _rewrite_header(data: bytes, **changes) -> bytes:
    """Re-encodes the header with changed fields and a valid CRC."""
    head = container.read_head(data)
    h = head.header
    for k, v in changes.items():
        setattr(h, k, v)
    body = container.encode_header(h)
    old_len = struct.unpack(">I", data[8:12])[0]
    chunk = struct.pack(">I", len(body)) + b"NHDR" + body + struct.pack(">I", zlib.crc32(b"NHDR" + body))
    return data[:8] + chunk + data[8 + 12 + old_len:]


def test_round_trip_structure(sample_rgb):
    data = _file(sample_rgb)
    assert data.startswith(container.SIGNATURE)
    parsed = container.read(data)
    assert (parsed.header.width, parsed.header.height, parsed.header.mode) == (96, 64, "RGB")
    assert parsed.header.codec_id == "jpeg" and parsed.header.quality == 50
    assert [c[0] for c in parsed.chunks] == ["NHDR", "FRAM", "DATA", "NEND"]
    assert container.write(parsed) == data


def test_bad_magic():
    with pytest.raises(ncd.NotNCDError, match="signature"):
        ncd.decode(b"\x89PNG\r\n\x1a\n" + bytes(40))


def test_every_truncation_is_an_ncd_error(sample_rgb):
    data = _file(sample_rgb)
    for n in range(len(data)):
        with pytest.raises(ncd.NCDError):
            ncd.decode(data[:n])
    with pytest.raises(ncd.TruncatedError):
        ncd.decode(data[: len(data) // 2])


def test_crc_mismatch(sample_rgb):
    data = bytearray(_file(sample_rgb))
    data[len(data) // 2] ^= 0x10  # inside the JPEG payload
    with pytest.raises(ncd.ChecksumError, match="CRC"):
        ncd.decode(bytes(data))


def test_unknown_codec_names_its_plugin(sample_rgb):
    data = _rewrite_header(_file(sample_rgb), codec_id="fancy", plugin="ncdiff-fancy")
    with pytest.raises(ncd.UnknownCodecError, match="ncdiff-fancy"):
        ncd.decode(data)
    # Structure is still readable without the codec.
    assert ncd.inspect(data)["codec"] == "fancy"


def test_newer_major_version_refused(sample_rgb):
    data = bytearray(_rewrite_header(_file(sample_rgb)))
    data[8 + 8] = 2  # major version byte of NHDR
    body_len = struct.unpack(">I", data[8:12])[0]
    crc = zlib.crc32(bytes(data[12 : 16 + body_len]))
    data[16 + body_len : 20 + body_len] = struct.pack(">I", crc)
    with pytest.raises(ncd.UnsupportedVersionError, match="version 2"):
        ncd.decode(bytes(data))


def test_pixel_limit_checked_before_allocation(sample_rgb):
    data = _rewrite_header(_file(sample_rgb), width=200_000, height=200_000)
    t = time.perf_counter()
    with pytest.raises(ncd.ImageTooLargeError, match="MAX_IMAGE_PIXELS"):
        ncd.decode(data)
    assert time.perf_counter() - t < 1.0
    # Pillow users catch DecompressionBombError.
    from PIL import Image

    assert issubclass(ncd.ImageTooLargeError, Image.DecompressionBombError)


def test_pixel_limit_is_configurable_and_warns_first_as_pillow_does(sample_rgb, monkeypatch):
    data = _file(sample_rgb)
    monkeypatch.setattr(options, "MAX_IMAGE_PIXELS", 96 * 64 - 1)  # over the limit, under twice it: a warning
    with pytest.warns(Image.DecompressionBombWarning, match="MAX_IMAGE_PIXELS"):
        assert ncd.decode(data).size == (96, 64)
    monkeypatch.setattr(options, "MAX_IMAGE_PIXELS", 96 * 64 // 2 - 1)  # over twice the limit: refused
    with pytest.raises(ncd.ImageTooLargeError):
        ncd.inspect(data)
    monkeypatch.setattr(options, "MAX_IMAGE_PIXELS", None)
    assert ncd.decode(data).size == (96, 64)


def test_frame_limit(sample_rgb, monkeypatch):
    data = ncd.encode_frames([sample_rgb] * 3, quality=30, codec="jpeg")
    monkeypatch.setattr(options, "MAX_FRAMES", 2)
    with pytest.raises(ncd.ImageTooLargeError, match="frames"):
        ncd.decode(data)


def test_total_pixel_limit_counts_every_frame(sample_rgb, monkeypatch):
    data = ncd.encode_frames([sample_rgb] * 3, quality=30, codec="jpeg")
    # Each frame is well under MAX_IMAGE_PIXELS; three are over twice this limit, two only over it.
    monkeypatch.setattr(options, "MAX_TOTAL_PIXELS", 96 * 64 * 3 // 2 - 1)
    with pytest.raises(ncd.ImageTooLargeError, match="MAX_TOTAL_PIXELS"):
        ncd.inspect(data)
    with pytest.raises(ncd.ImageTooLargeError, match="MAX_TOTAL_PIXELS"):
        ncd.encode_frames([sample_rgb] * 3, quality=30, codec="jpeg")  # nor is such a file written
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        two = ncd.encode_frames([sample_rgb] * 2, quality=30, codec="jpeg")  # writing does not warn
    with pytest.warns(Image.DecompressionBombWarning, match="MAX_TOTAL_PIXELS"):
        assert len(ncd.decode_frames(two)) == 2
    monkeypatch.setattr(options, "MAX_TOTAL_PIXELS", None)
    assert len(ncd.decode_frames(data)) == 3


def test_absurd_chunk_length_is_rejected(sample_rgb):
    data = bytearray(_file(sample_rgb))
    fram = data.index(b"FRAM") - 4
    data[fram : fram + 4] = struct.pack(">I", 0x7FFFFFF0)
    with pytest.raises(ncd.TruncatedError, match="declares"):
        ncd.decode(bytes(data))


def test_frame_count_mismatch(sample_rgb):
    data = _rewrite_header(_file(sample_rgb))
    parsed = container.read(data)
    parsed.frames.append(parsed.frames[0])
    two = container.write(parsed)
    one = _rewrite_header(two, frame_count=1)
    with pytest.raises(ncd.CorruptFileError, match="more frames"):
        ncd.decode(one)


def test_unknown_ancillary_chunk_is_skipped_critical_refused(sample_rgb):
    data = _file(sample_rgb)
    fram = data.index(b"FRAM") - 4

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ancillary = data[:fram] + chunk(b"tEXt", b"hello") + data[fram:]
    assert ncd.decode(ancillary).size == (96, 64)
    critical = data[:fram] + chunk(b"ZZZZ", b"hello") + data[fram:]
    with pytest.raises(ncd.CorruptFileError, match="critical"):
        ncd.decode(critical)


def test_errors_are_oserrors():
    # Pillow users catch OSError; option errors are also ValueError.
    assert issubclass(ncd.NCDError, OSError)
    assert issubclass(ncd.InvalidOptionError, ValueError)

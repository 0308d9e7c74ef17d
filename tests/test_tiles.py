"""Images coded in tiles: the TILE chunks, the learned codec's tiles, region decode, the bomb guard."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import ncdiff_plugin as ncd
import ncdiff_fuzz as fuzz
from ncdiff_plugin import container, options

from conftest import SAMPLES, psnr

torch = pytest.importorskip("torch")

from ncdiff_learned.grid import check_layout, grid  # noqa: E402

KODIM23 = os.path.join(SAMPLES, "kodim23-half.png")  # 384x256


@pytest.fixture(scope="module")
def photo():
    return Image.open(KODIM23).convert("RGB").crop((0, 0, 352, 240))


@pytest.fixture(scope="module")
def tiled(photo):
    return ncd.encode(photo, quality=40, codec="learned", tile=128)


def test_grid_covers_the_image_on_the_stride():
    boxes = grid(352, 240, 128)
    assert boxes == [(0, 0, 128, 128), (128, 0, 128, 128), (256, 0, 96, 128),
                     (0, 128, 128, 112), (128, 128, 128, 112), (256, 128, 96, 112)]
    shifted = grid(352, 240, 128, offset=64)
    assert shifted[0] == (0, 0, 64, 64) and shifted[1] == (64, 0, 128, 64)
    for layout in (boxes, shifted):
        check_layout(layout, 352, 240)
    with pytest.raises(ncd.CorruptFileError, match="overlaps"):
        check_layout(boxes + [(0, 0, 64, 64)], 352, 240)
    with pytest.raises(ncd.CorruptFileError, match="cover"):
        check_layout(boxes[:-1], 352, 240)
    with pytest.raises(ncd.CorruptFileError, match="grid"):
        check_layout([(32, 0, 64, 64)], 352, 240)


def test_tiles_are_listed_by_inspect_and_written_as_version_1_2(tiled, photo):
    info = ncd.inspect(tiled)
    assert info["format_version"] == "1.2"
    assert info["frames"][0]["tiles"] == [list(b) for b in grid(352, 240, 128)]
    assert len(info["frames"][0]["streams"]) == 3 * 6
    assert [c["type"] for c in info["chunks"]].count("TILE") == 6
    whole = ncd.encode(photo, quality=40, codec="learned")  # fits one 768 tile: coded whole, as before
    assert ncd.inspect(whole)["format_version"] == "1.1"
    assert ncd.inspect(whole)["frames"][0]["tiles"] == [[0, 0, 352, 240]]


def test_tiled_decode_matches_whole_quality_and_bytes(tiled, photo):
    whole = ncd.encode(photo, quality=40, codec="learned", tile=0)
    original = np.asarray(photo)
    a, b = psnr(np.asarray(ncd.decode(whole)), original), psnr(np.asarray(ncd.decode(tiled)), original)
    assert abs(a - b) < 0.3, (a, b)
    # Six small tiles, each with its own hyperprior and rANS flush: a few percent of the streams (7.8%
    # with the shipped base, trained on 256x256 crops, which codes a whole image better than 128x128
    # pieces; 1.0% with a base trained on 128x128 crops); each tile also costs 64 bytes of chunks
    # (docs/tiles.md: 768-pixel tiles cost far less).
    streams = lambda data: sum(ncd.inspect(data)["frames"][0]["streams"])  # noqa: E731
    assert streams(tiled) < 1.10 * streams(whole), (streams(tiled), streams(whole))


@pytest.mark.parametrize("decoder", ["base", "nc"])
def test_region_decode_is_exactly_the_full_decode(tiled, decoder):
    full = np.asarray(ncd.decode(tiled, decoder=decoder, steps=1 if decoder == "nc" else None))
    for left, top, w, h in ((0, 0, 352, 240), (100, 90, 60, 70), (127, 127, 2, 2), (300, 200, 52, 40)):
        part = ncd.decode(tiled, region=(left, top, w, h), decoder=decoder, steps=1 if decoder == "nc" else None)
        assert part.size == (w, h)
        assert np.array_equal(np.asarray(part), full[top : top + h, left : left + w])


def test_region_of_files_without_tiles_and_of_alpha(photo):
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))
    for codec in ("jpeg", "learned"):
        data = ncd.encode(rgba, quality=40, codec=codec)
        full = np.asarray(ncd.decode(data))
        part = ncd.decode(data, region=(10, 20, 30, 40))
        assert part.mode == "RGBA" and np.array_equal(np.asarray(part), full[20:60, 10:40])


@pytest.mark.parametrize("region", [(0, 0, 0, 5), (-1, 0, 5, 5), (350, 0, 5, 5), (0, 0, 352, 241), "0,0,5,5", (1, 2, 3)])
def test_bad_regions_are_refused(tiled, region):
    with pytest.raises(ncd.InvalidOptionError, match="region"):
        ncd.decode(tiled, region=region)


def test_seams_do_not_show(photo):
    """Band error along the tile grid against the same bands of a decode whose grid is shifted by half a tile."""
    original = np.asarray(photo).astype(np.float64)
    on_grid = np.asarray(ncd.decode(ncd.encode(photo, quality=40, codec="learned", tile=128))).astype(np.float64)
    shifted = np.asarray(ncd.decode(ncd.encode(photo, quality=40, codec="learned", tile=128, tile_offset=64)))
    mask = np.zeros(original.shape[:2], dtype=bool)
    mask[:, 126:130], mask[:, 254:258], mask[126:130, :] = True, True, True
    err_grid = np.mean((original[mask] - on_grid[mask]) ** 2)
    err_shifted = np.mean((original[mask] - shifted.astype(np.float64)[mask]) ** 2)
    # Equal in expectation; on this small picture the two codings differ by chance by a few percent.
    assert err_grid < 1.15 * err_shifted, (err_grid, err_shifted)


def _rewrite_tiles(data: bytes, boxes) -> bytes:
    parsed = container.read(data)
    for tile, box in zip(parsed.frames[0].payloads, boxes):
        tile.left, tile.top, tile.width, tile.height = box
    return container.write(parsed)


def test_forged_tile_layouts_are_refused(tiled):
    boxes = grid(352, 240, 128)
    overlapping = [boxes[0]] + [boxes[0]] + boxes[2:]
    off_grid = [(32, 0, 128, 128)] + boxes[1:]
    for forged in (overlapping, off_grid):
        with pytest.raises(ncd.CorruptFileError):
            ncd.decode(_rewrite_tiles(tiled, forged))
    parsed = container.read(tiled)
    parsed.frames[0].payloads[2].payloads = parsed.frames[0].payloads[2].payloads[:2]
    with pytest.raises(ncd.CorruptFileError, match="3 payload streams"):
        ncd.decode(container.write(parsed))
    # A codec that does not code tiles refuses them.
    parsed = container.read(tiled)
    parsed.header.codec_id = "jpeg"
    with pytest.raises(ncd.CorruptFileError, match="does not code tiles"):
        ncd.decode(container.write(parsed))


def test_tile_chunks_moved_or_swapped_break_the_sequence_checksum(tiled):
    spans = fuzz.chunk_spans(tiled)
    kinds = [fuzz.chunk_kind(tiled, s) for s in spans]
    first, second = [i for i, k in enumerate(kinds) if k == b"TILE"][:2]
    # Each chunk stays intact: only the sequence checksum sees that the streams changed tiles.
    with pytest.raises(ncd.ChecksumError, match="sequence"):
        ncd.inspect(fuzz.swap_chunks(tiled, first + 1, second + 1))
    with pytest.raises(ncd.NCDError):
        ncd.inspect(fuzz.swap_chunks(tiled, first, second))


def test_pillow_opencv_and_the_cli_take_tiled_files(tiled, tmp_path):
    full = np.asarray(ncd.decode(tiled))
    with Image.open(io.BytesIO(tiled)) as im:
        assert im.size == (352, 240) and np.array_equal(np.asarray(im.convert("RGB")), full)
    import cv_ncd

    assert np.array_equal(cv_ncd.imdecode(np.frombuffer(tiled, np.uint8))[..., ::-1], full)
    src = tmp_path / "in.ncd"
    src.write_bytes(tiled)
    out = tmp_path / "part.png"
    proc = subprocess.run([sys.executable, "-m", "ncdiff_plugin", "decode", str(src), str(out), "--region", "10,20,30,40"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert np.array_equal(np.asarray(Image.open(out)), full[20:60, 10:40])


def test_bomb_guard_warns_then_refuses_like_pillow(tiled):
    limit = options.MAX_IMAGE_PIXELS
    assert limit == Image.MAX_IMAGE_PIXELS and 8000 * 6000 < limit  # a 48 MP photo passes silently
    jpeg = ncd.encode(Image.new("RGB", (64, 48)), codec="jpeg")
    over = fuzz.rewrite_header(jpeg, width=10_000, height=9_000)  # over the limit, under twice it
    with pytest.warns(Image.DecompressionBombWarning, match="MAX_IMAGE_PIXELS"):
        assert ncd.inspect(over)["width"] == 10_000
    with pytest.warns(Image.DecompressionBombWarning):
        Image.open(io.BytesIO(over))
    bomb = fuzz.rewrite_header(jpeg, width=14_000, height=14_000)  # over twice the limit
    for read in (ncd.inspect, lambda d: Image.open(io.BytesIO(d))):
        with pytest.raises(ncd.ImageTooLargeError, match="MAX_IMAGE_PIXELS"):
            read(bomb)

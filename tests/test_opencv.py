"""cv_ncd: OpenCV-style encode / decode / imencode / imdecode."""

import cv2
import numpy as np
import pytest

import cv_ncd
import ncdiff_plugin as ncd


@pytest.fixture
def bgr(coloured):
    return np.ascontiguousarray(np.asarray(coloured)[:, :, ::-1])  # red, green, blue thirds as BGR


def test_flags_match_cv2():
    assert (cv_ncd.IMREAD_COLOR, cv_ncd.IMREAD_GRAYSCALE, cv_ncd.IMREAD_UNCHANGED, cv_ncd.IMREAD_ANYCOLOR,
            cv_ncd.IMREAD_COLOR_RGB) == (cv2.IMREAD_COLOR, cv2.IMREAD_GRAYSCALE, cv2.IMREAD_UNCHANGED,
                                          cv2.IMREAD_ANYCOLOR, cv2.IMREAD_COLOR_RGB)
    ids = {v for k, v in vars(cv2).items() if k.startswith("IMWRITE_") and isinstance(v, int)}
    assert cv_ncd.IMWRITE_NCD_QUALITY not in ids and cv_ncd.IMWRITE_NCD_CODEC not in ids


def test_channel_order_is_bgr(bgr):
    buf = cv_ncd.encode(bgr, quality=95, codec="jpeg")
    assert buf.dtype == np.uint8 and buf.ndim == 1
    out = cv_ncd.decode(buf)
    # Left third is red: in BGR, channel 2 high, channel 0 low.
    assert out[16, 5, 2] > 200 and out[16, 5, 0] < 60
    assert out[16, 40, 0] > 200 and out[16, 40, 2] < 60
    # The file itself stores RGB: Pillow sees red on the left.
    assert ncd.decode(buf.tobytes()).getpixel((5, 16))[0] > 200
    rgb = cv_ncd.decode(buf, cv2.IMREAD_COLOR_RGB)
    assert rgb[16, 5, 0] > 200


def test_grayscale_and_unchanged(bgr):
    buf = cv_ncd.encode(bgr, quality=90, codec="jpeg")
    assert cv_ncd.decode(buf, cv2.IMREAD_GRAYSCALE).shape == (32, 48)
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 77, np.uint8)])
    buf = cv_ncd.encode(bgra, quality=90, codec="jpeg")
    out = cv_ncd.decode(buf, cv2.IMREAD_UNCHANGED)
    assert out.shape == (32, 48, 4) and np.all(out[:, :, 3] == 77) and out[16, 5, 2] > 200
    assert cv_ncd.decode(buf).shape == (32, 48, 3)
    gray = cv_ncd.encode(bgr[:, :, 1], quality=90, codec="jpeg")
    assert cv_ncd.decode(gray, cv2.IMREAD_UNCHANGED).shape == (32, 48)


def test_imencode_imdecode_twins(bgr):
    ok, buf = cv_ncd.imencode(".ncd", bgr, [cv_ncd.IMWRITE_NCD_QUALITY, 30, cv_ncd.IMWRITE_NCD_CODEC, cv_ncd.NCD_CODEC_JPEG])
    assert ok and ncd.inspect(buf.tobytes())["quality"] == 30
    assert cv_ncd.imdecode(buf, cv2.IMREAD_COLOR).shape == bgr.shape
    # Other formats go to cv2, both ways.
    ok, png = cv_ncd.imencode(".png", bgr)
    assert ok and np.array_equal(cv_ncd.imdecode(png, cv2.IMREAD_COLOR), bgr)


def test_imdecode_returns_none_on_bad_data(bgr):
    buf = cv_ncd.encode(bgr, codec="jpeg")
    assert cv_ncd.imdecode(buf[:40], cv2.IMREAD_COLOR) is None
    broken = buf.copy()
    broken[-20] ^= 0xFF
    assert cv_ncd.imdecode(broken, cv2.IMREAD_COLOR) is None
    assert cv_ncd.imdecode(np.zeros(10, np.uint8), cv2.IMREAD_COLOR) is None  # like cv2


def test_decode_raises_cv2_and_ncd_errors(bgr):
    buf = cv_ncd.encode(bgr, codec="jpeg")
    with pytest.raises(cv2.error):
        cv_ncd.decode(buf[:40])
    with pytest.raises(ncd.NCDError, match="truncated"):
        cv_ncd.decode(buf[:40])
    with pytest.raises(cv_ncd.error, match="numpy array"):
        cv_ncd.encode("not an array")

"""The ncd command line."""

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from ncdiff_plugin import cli


@pytest.fixture
def png(sample_rgb, tmp_path):
    path = tmp_path / "in.png"
    sample_rgb.save(path)
    return str(path)


def test_encode_decode_info(png, tmp_path, capsys):
    out, back = str(tmp_path / "out.ncd"), str(tmp_path / "back.png")
    assert cli.main(["encode", png, out, "-q", "60", "--codec", "jpeg"]) == 0
    line = capsys.readouterr().out
    assert "96x64" in line and "bytes" in line and "bpp" in line and "codec jpeg" in line
    assert cli.main(["decode", out, back]) == 0
    assert Image.open(back).size == (96, 64)
    assert cli.main(["info", out]) == 0
    text = capsys.readouterr().out
    assert "NHDR" in text and "quality" in text


def test_info_json(png, tmp_path, capsys):
    out = str(tmp_path / "out.ncd")
    cli.main(["encode", png, out, "--codec", "jpeg", "--quiet"])
    assert capsys.readouterr().out == ""
    cli.main(["info", out, "--json"])
    info = json.loads(capsys.readouterr().out)
    assert info["codec"] == "jpeg" and info["width"] == 96


def test_refuses_to_overwrite(png, tmp_path, capsys):
    out = tmp_path / "out.ncd"
    out.write_bytes(b"precious")
    assert cli.main(["encode", png, str(out), "--codec", "jpeg"]) == 1
    assert "exists" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"
    assert cli.main(["encode", png, str(out), "--codec", "jpeg", "-f"]) == 0
    assert out.read_bytes() != b"precious"


def test_never_overwrites_input(png, capsys):
    before = open(png, "rb").read()
    assert cli.main(["encode", png, png, "-f", "--codec", "jpeg"]) == 1
    assert "input" in capsys.readouterr().err
    assert open(png, "rb").read() == before


def test_bad_input_one_line_reason(tmp_path, capsys):
    bad = tmp_path / "bad.ncd"
    bad.write_bytes(b"\x8bNCD\r\n\x1a\n" + b"\x00" * 5)
    assert cli.main(["decode", str(bad), str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ncd: error:") and "truncated" in err and "\n" not in err
    assert not (tmp_path / "x.png").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".ncd-")]


def test_python_dash_m(png, tmp_path):
    out = str(tmp_path / "m.ncd")
    proc = subprocess.run([sys.executable, "-m", "ncdiff_plugin", "encode", png, out, "--codec", "jpeg"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert os.path.getsize(out) > 100
    proc = subprocess.run([sys.executable, "-m", "ncdiff_plugin", "info", str(tmp_path / "missing.ncd")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "No such file" in proc.stderr

"""`make demo` end to end on one small photo: the table and the side-by-side picture."""
from PIL import Image

from ncdiff_bench import demo


def test_demo_writes_the_table_and_a_side_by_side_picture(tmp_path, capsys):
    samples = tmp_path / "samples"
    samples.mkdir()
    Image.open("samples/kodim23-half.png").convert("RGB").crop((0, 0, 128, 96)).save(samples / "small.png")
    assert demo.main([str(samples), str(tmp_path / "out"), "-q", "10", "--picture-quality", "10"]) in (0, None)
    assert "ahead of JPEG at equal bytes in" in capsys.readouterr().out
    picture = Image.open(tmp_path / "out" / "small-side-by-side.png")
    # six panels: original, JPEG, AVIF, base, nc and cdc
    assert picture.width * picture.height >= 6 * 128 * 96

"""Stories render inert whatever is typed into them; covers are re-encoded images."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from p2pbank.crowdfunding.content import COVER_MAX_SIDE, cover_path, render_markdown, store_cover
from p2pbank.errors import ValidationFailed


@pytest.mark.parametrize(
    "story",
    [
        "<script>alert('x')</script>hello",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "[click](javascript:alert(1))",
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<div onclick="steal()" style="position:fixed">x</div>',
        '<iframe src="https://evil.example"></iframe>',
        "<svg><script>alert(1)</script></svg>",
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        "<form action=/steal><input name=x></form>",
    ],
)
def test_dangerous_markup_renders_inert(story):
    html = render_markdown(story).lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "style=",
        "<form",
        "data:",
        "<img",
        "<svg",
        "alert(1)</",
    ):
        assert bad not in html, (bad, html)


def test_markdown_is_rendered_and_links_are_marked():
    html = render_markdown("# Title\n\n**bold** and [site](https://example.test)\n\n- a\n- b")
    assert "<h2>Title</h2>" in html  # the page owns <h1>
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.test" rel="noopener nofollow">site</a>' in html
    assert "<li>a</li>" in html


def test_code_is_escaped_not_executed():
    html = render_markdown("```\n<script>x</script>\n```")
    assert "&lt;script&gt;" in html and "<script>" not in html


def _image(fmt: str, size=(40, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "red").save(buffer, format=fmt)
    return buffer.getvalue()


def test_jpeg_cover_is_reencoded_without_metadata(tmp_path):
    source = Image.new("RGB", (50, 40), "blue")
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    buffer = io.BytesIO()
    source.save(buffer, format="JPEG", exif=exif)
    cover = store_cover(buffer.getvalue(), tmp_path, "c1")
    stored = (tmp_path / cover.filename).read_bytes()
    assert stored != buffer.getvalue()
    assert b"secret description" not in stored
    with Image.open(tmp_path / cover.filename) as image:
        assert image.format == "JPEG" and image.size == (50, 40)
    assert cover.filename.startswith("c1-") and cover.filename.endswith(".jpg")


def test_png_with_transparency_stays_png_and_is_shrunk(tmp_path):
    cover = store_cover(_image("PNG", (3200, 800), "RGBA"), tmp_path, "c2")
    with Image.open(tmp_path / cover.filename) as image:
        assert image.format == "PNG"
        assert max(image.size) == COVER_MAX_SIDE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose an image"),
        (b"GIF89a" + b"\x00" * 50, "not a PNG or JPEG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a PNG or JPEG"),
        (b"%PDF-1.4 hello", "not a PNG or JPEG"),
        (b"x" * (901 * 1024), "larger than"),
    ],
)
def test_other_files_are_refused(tmp_path, data, message):
    with pytest.raises(ValidationFailed) as caught:
        store_cover(data, tmp_path, "c3")
    assert message in caught.value.detail
    assert list(tmp_path.iterdir()) == []


def test_gif_is_refused_even_if_valid(tmp_path):
    with pytest.raises(ValidationFailed) as caught:
        store_cover(_image("GIF"), tmp_path, "c4")
    assert "Only PNG and JPEG" in caught.value.detail


def test_truncated_png_is_refused(tmp_path):
    data = _image("PNG", (200, 200))
    with pytest.raises(ValidationFailed):
        store_cover(data[: len(data) // 2], tmp_path, "c5")


def test_cover_path_refuses_traversal(tmp_path):
    assert cover_path(tmp_path, "c1-ab.jpg") == tmp_path / "c1-ab.jpg"
    for bad in ("../x.jpg", "a/b.jpg", ".hidden", "", "..\\x"):
        with pytest.raises(ValueError):
            cover_path(tmp_path, bad)


# --- covers that are small files but huge images --------------------------------------------


def _flat_png(width: int, height: int, color_type: int = 2) -> bytes:
    """A real, complete PNG of width x height black pixels, built row by row so the test
    itself never holds the decoded image: a few hundred KB on disk, gigabytes decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    bands = {0: 1, 2: 3, 6: 4}[color_type]
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + width * bands)  # filter byte "none", then the pixels
    parts = [packer.compress(row) for _ in range(height)]
    idat = b"".join(parts) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_small_png_of_forty_megapixels_is_refused_before_decoding(tmp_path):
    """The review's bomb: a 154 KB PNG of 39.7 megapixels (under the old 40 MP limit)
    cost a worker about 640 MB. Refused from its header, with a clear message."""
    data = _flat_png(6_300, 6_300)  # 39.69 MP of RGB
    assert len(data) < 900 * 1024
    with pytest.raises(ValidationFailed) as caught:
        store_cover(data, tmp_path, "c6")
    assert "too many pixels" in caught.value.detail
    assert list(tmp_path.iterdir()) == []


def test_the_bomb_costs_no_memory_to_refuse(tmp_path):
    """Peak memory (VmHWM: survives no fork, unlike ru_maxrss) of a fresh process refusing
    the bomb, against the same process storing an ordinary cover: not hundreds of MB."""
    import subprocess
    import sys

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_flat_png(6_300, 6_300))
    plain = tmp_path / "plain.png"
    plain.write_bytes(_image("PNG", (800, 600)))
    script = (
        "import sys, pathlib\n"
        "from p2pbank.crowdfunding.content import store_cover\n"
        "from p2pbank.errors import ValidationFailed\n"
        "try:\n"
        "    store_cover(pathlib.Path(sys.argv[1]).read_bytes(), pathlib.Path(sys.argv[2]), 'm')\n"
        "except ValidationFailed:\n"
        "    pass\n"
        "status = pathlib.Path('/proc/self/status').read_text().splitlines()\n"
        "print([line.split()[1] for line in status if line.startswith('VmHWM')][0])\n"
    )

    def peak_kb(path) -> int:
        out = subprocess.run(
            [sys.executable, "-c", script, str(path), str(tmp_path / "out")],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.split()[-1])

    baseline, refused = peak_kb(plain), peak_kb(bomb)
    print(f"peak RSS: ordinary cover {baseline} KB, 39.7 MP bomb {refused} KB")
    assert refused < baseline + 50 * 1024


def test_a_large_camera_jpeg_is_still_taken_and_shrunk(tmp_path):
    """Covers come from cameras: a 24-megapixel JPEG is decoded at a reduced scale
    (JPEG's own draft mode) and stored at COVER_MAX_SIDE."""
    buffer = io.BytesIO()
    Image.new("RGB", (6_000, 4_000), "teal").save(buffer, format="JPEG", quality=70)
    cover = store_cover(buffer.getvalue(), tmp_path, "c7")
    assert max(cover.width, cover.height) == COVER_MAX_SIDE


def test_a_png_just_under_the_limit_is_taken(tmp_path):
    from p2pbank.crowdfunding.content import COVER_MAX_DECODED_BYTES

    side = int((COVER_MAX_DECODED_BYTES / 4) ** 0.5) - 1  # RGB: four bytes a pixel
    cover = store_cover(_flat_png(side, side), tmp_path, "c8")
    assert max(cover.width, cover.height) == COVER_MAX_SIDE

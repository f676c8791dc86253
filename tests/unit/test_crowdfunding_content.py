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

"""User-written content made safe to show: Markdown rendered and sanitized with nh3, and
cover images checked and re-encoded with Pillow. No framework, no database."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import markdown
import nh3
from PIL import Image, UnidentifiedImageError

from p2pbank.errors import ValidationFailed

STORY_MAX_CHARS = 50_000
UPDATE_MAX_CHARS = 20_000

# What a story may contain after rendering; everything else is stripped. No images (the
# cover is the picture, and remote images would track readers), no inline styles or
# event handlers, links only to http(s)/mailto and marked rel="noopener nofollow".
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5",
        "hr", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
        "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template"})


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to insert into a page as is."""
    html = markdown.markdown(
        text, extensions=["fenced_code", "sane_lists", "tables"], output_format="html"
    )
    # A top-level heading in the story would compete with the page's own <h1>.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener nofollow",
        strip_comments=True,
    )


# --- cover images ------------------------------------------------------------------------------

COVER_MAX_BYTES = 900 * 1024  # the whole request is capped at 1 MiB (MAX_CONTENT_LENGTH)
COVER_MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
# What one full decode may cost: 64 MiB is 16.7 megapixels of RGB (4096 x 4096). JPEGs
# are decoded at a reduced scale first (draft mode), so camera photos stay well inside.
COVER_MAX_DECODED_BYTES = 64 * 1024 * 1024
COVER_MAX_SIDE = 1600  # stored covers are at most this wide or high
COVER_FORMATS = frozenset({"PNG", "JPEG"})


@dataclass(frozen=True, slots=True)
class Cover:
    filename: str
    width: int
    height: int


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed.on("cover", message)


def decoded_bytes(mode: str, size: tuple[int, int]) -> int:
    """Memory Pillow takes for the decoded image: one byte a pixel for bilevel, grey and
    palette images, four for everything else (it stores RGB padded to four bytes)."""
    width, height = size
    return width * height * (1 if mode in ("1", "L", "P") else 4)


def _check_header(image: Image.Image) -> None:
    """Format and pixel count from the header alone, before any pixel is decoded."""
    if image.format not in COVER_FORMATS:
        raise _refuse("Only PNG and JPEG images are accepted.")
    width, height = image.size
    if width * height > COVER_MAX_PIXELS:
        raise _refuse("The image has too many pixels.")


def store_cover(data: bytes, folder: Path, prefix: str) -> Cover:
    """Check an uploaded image and write a re-encoded copy into `folder`.

    Only PNG and JPEG are taken (by content, not by name); the pixel count is checked from
    the header before decoding (a small file can hold a huge image); the image is decoded and
    saved again without its metadata (EXIF, GPS, comments), shrunk to COVER_MAX_SIDE, so
    what is stored is always a clean image this code wrote itself. The file name is random.
    """
    if not data:
        raise _refuse("Choose an image file.")
    if len(data) > COVER_MAX_BYTES:
        raise _refuse(f"The image is larger than {COVER_MAX_BYTES // 1024} KB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                _check_header(probe)
                probe.verify()
            with Image.open(io.BytesIO(data)) as source:
                _check_header(source)
                if source.format == "JPEG":  # JPEG decodes at 1/2, 1/4 or 1/8 scale
                    source.draft(source.mode, (COVER_MAX_SIDE, COVER_MAX_SIDE))
                if decoded_bytes(source.mode, source.size) > COVER_MAX_DECODED_BYTES:
                    raise _refuse("The image has too many pixels.")
                source.load()
                source.thumbnail((COVER_MAX_SIDE, COVER_MAX_SIDE))
                image = source.copy()  # the shrunk image only
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse("The file is not a PNG or JPEG image.") from None
    except (OSError, SyntaxError, ValueError):
        raise _refuse("The image is damaged and cannot be read.") from None

    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    folder.mkdir(parents=True, exist_ok=True)
    if has_alpha:
        image = image.convert("RGBA")
        name = f"{prefix}-{secrets.token_hex(8)}.png"
        image.save(folder / name, format="PNG", optimize=True)
    else:
        image = image.convert("RGB")
        name = f"{prefix}-{secrets.token_hex(8)}.jpg"
        image.save(folder / name, format="JPEG", quality=85, optimize=True)
    return Cover(filename=name, width=image.width, height=image.height)


def cover_path(folder: Path, filename: str) -> Path:
    """The stored file for a name this module wrote; refuses anything else."""
    if not filename or "/" in filename or "\\" in filename or filename.startswith("."):
        raise ValueError("not a cover file name")
    return folder / filename

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
COVER_MAX_SIDE = 1600  # stored covers are at most this wide or high
COVER_FORMATS = frozenset({"PNG", "JPEG"})


@dataclass(frozen=True, slots=True)
class Cover:
    filename: str
    width: int
    height: int


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed.on("cover", message)


def store_cover(data: bytes, folder: Path, prefix: str) -> Cover:
    """Check an uploaded image and write a re-encoded copy into `folder`.

    Only PNG and JPEG are taken (by content, not by name); the image is decoded fully and
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
                fmt = probe.format
                width, height = probe.size
                if fmt not in COVER_FORMATS:
                    raise _refuse("Only PNG and JPEG images are accepted.")
                if width * height > COVER_MAX_PIXELS:
                    raise _refuse("The image has too many pixels.")
                probe.verify()
            with Image.open(io.BytesIO(data)) as source:
                source.load()
                image = source.copy()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse("The file is not a PNG or JPEG image.") from None
    except (OSError, SyntaxError, ValueError):
        raise _refuse("The image is damaged and cannot be read.") from None

    image.thumbnail((COVER_MAX_SIDE, COVER_MAX_SIDE))
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

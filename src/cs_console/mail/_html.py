"""HTML mail to readable plain text, with nothing fetched.

html2text is the converter: it is maintained, pure Python, already a
dependency, keeps every link's real target beside its text
(``[aquí](https://shop.example/x)``, so a lying link text is visible), shows
``<blockquote>`` as ``>`` lines (which the quote splitter then recognises), and
renders lists and small tables readably. It never loads anything: images are
dropped (their ``src`` could be a tracking pixel) and no URL is opened.
inscriptis is far faster (it parses with lxml) but loses blockquote markers
and indents oddly; HTML-only mail is the minority, so quality wins here, and
the input is capped so a hostile megabyte of markup cannot stall a sync.
"""

from __future__ import annotations

import re

import html2text

__all__ = ["MAX_HTML_CHARS", "html_to_text"]

#: HTML beyond this many characters is not converted (a warning says so).
MAX_HTML_CHARS = 200_000

# A "<" with no ">" before the next "<" can never close a tag. Python's
# html.parser rescans such input again and again (minutes for a few hundred
# KB of "<script<script..."), so these become text before parsing.
_DANGLING_LT = re.compile(r"<(?![^<>]*>)")
# "[a@b.es](mailto:a@b.es)" says nothing more than "a@b.es".
_MAILTO_SAME = re.compile(r"\[([^\[\]\s]+@[^\[\]\s]+)\]\(mailto:\1\)")
_BLANKS = re.compile(r"\n{3,}")


def html_to_text(html: str, *, warnings: list[str] | None = None) -> str:
    """Convert an HTML body to plain text; never raises.

    Args:
        html: The decoded HTML.
        warnings: Problems are appended here (too large, converter failure).
    """
    if len(html) > MAX_HTML_CHARS:
        if warnings is not None:
            warnings.append(
                f"HTML body is {len(html):,} characters; only the first "
                f"{MAX_HTML_CHARS:,} were converted"
            )
        html = html[:MAX_HTML_CHARS]
    html = _DANGLING_LT.sub("&lt;", html)
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.unicode_snob = True
    converter.inline_links = True
    converter.protect_links = False
    converter.skip_internal_links = True
    converter.ignore_tables = False
    converter.pad_tables = False
    try:
        text = converter.handle(html)
    except Exception as exc:  # a converter bug must not lose the mail
        if warnings is not None:
            warnings.append(f"HTML could not be converted ({type(exc).__name__}); tags removed")
        text = re.sub(r"<[^>]*>", " ", html)
    text = _MAILTO_SAME.sub(r"\1", text)
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()

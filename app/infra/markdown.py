"""Markdown written by people, rendered to HTML that is safe to show to others.

markdown-it-py in CommonMark mode with raw HTML off, then an nh3 allowlist: no script, no event
handlers, no javascript: links, and no images at all (a remote image is a tracking pixel on a
colleague's screen, and a fetch when a PDF is rendered). Links open outside the app.

Text shown on busy pages keeps this output beside it (app/models/stored_markdown.py), made when
the text is saved; `VERSION` names the renderer that made it, and HTML made by another one is
rendered afresh when shown (`flask markdown refresh` stores it again).
"""

from __future__ import annotations

import html
from importlib.metadata import version

import markdown_it
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_parser.disable("image")

TAGS = {
    "a",
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "del",
    "s",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

# Which renderer made a stored HTML: raise RULES whenever the output for the same text changes
# here (options, allowlist); new releases of the two libraries change it by themselves.
RULES = 1
VERSION = f"{RULES}:markdown-it-py {markdown_it.__version__}:nh3 {version('nh3')}"


def render(text: str) -> Markup:
    """Safe HTML for a markdown text."""
    clean = nh3.clean(
        _parser.render(text or ""),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def stored(text: str, stored_html: str | None, stored_version: str | None) -> Markup:
    """The HTML kept for `text` when this renderer made it (only `render` writes it), else the
    text rendered now."""
    if stored_html is not None and stored_version == VERSION:
        return Markup(stored_html)  # noqa: S704 - render()'s output, kept
    return render(text)


def plain_excerpt(text: str, length: int = 240) -> str:
    """A short plain-text excerpt (for lists and notifications); never HTML."""
    return _shorten(_parser.render(text or ""), length)


def html_excerpt(rendered: Markup, length: int = 240) -> str:
    """`plain_excerpt` of the text `rendered` came from, read from render()'s output (no
    markdown parsed again: every tag it can hold is allowed, so the words are the same)."""
    return _shorten(str(rendered), length)


def _shorten(rendered_html: str, length: int) -> str:
    words = " ".join(html.unescape(nh3.clean(rendered_html, tags=set())).split())
    return words if len(words) <= length else words[: length - 1].rsplit(" ", 1)[0] + "…"

"""Markdown written by people, rendered to HTML that is safe to show to others.

markdown-it-py in CommonMark mode with raw HTML off, then an nh3 allowlist: no script, no event
handlers, no javascript: links, and no images at all (a remote image is a tracking pixel on a
colleague's screen, and a fetch when a PDF is rendered). Links open outside the app.
"""

from __future__ import annotations

import html

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


def plain_excerpt(text: str, length: int = 240) -> str:
    """A short plain-text excerpt (for lists and notifications); never HTML."""
    words = " ".join(html.unescape(nh3.clean(_parser.render(text or ""), tags=set())).split())
    return words if len(words) <= length else words[: length - 1].rsplit(" ", 1)[0] + "…"

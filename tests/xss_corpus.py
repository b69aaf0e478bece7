"""XSS payloads, and a check that a page shows them only as inert text.

Every page that shows what people typed (evidence titles, bodies, links, comments, file names …)
feeds these through and calls `assert_inert(html)` on each page that displays them. Add new
payloads to PAYLOADS (or a list of your own next to it); keep each under 200 characters so that
it fits every text field.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

PAYLOADS: list[str] = [
    # Raw HTML: markdown must not pass it through, templates must escape it.
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    '"><script>alert(1)</script>',
    "'><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<details open ontoggle=alert(1)>x</details>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="javascript&#x3a;alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="data:text/html,<script>alert(1)</script>">click</a>',
    # Markdown links and autolinks with dangerous schemes.
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](JaVaScRiPt&#x3a;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript%3Aalert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click]( javascript:alert(1) )",
    "<javascript:alert(1)>",
    "<JaVaScRiPt:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    # Event handlers smuggled through a markdown link title.
    '[x](https://example.com "a\\" onmouseover=\\"alert(1)")',
    "[x](https://example.com 'b\" onclick=\"alert(1)')",
    '[x](https://example.com "><img src=x onerror=alert(1)>")',
    # Remote images: a tracking pixel, or a fetch when a PDF is made.
    "![pixel](http://evil.example/pixel.png)",
    '![x](https://evil.example/x.png "title")',
    "![x](javascript:alert(1))",
    # HTML entities that must stay text.
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&#x3C;img src=x onerror=alert(1)&#x3E;",
    "\\<script\\>alert(1)\\</script\\>",
    # Template injection: must be shown, never evaluated.
    "{{ config }} {% raw %}{{ 7*7 }}{% endraw %}",
]

# Link addresses the evidence form accepts (http/https with a host): they must stay inside href.
SAFE_LINK_URLS: list[str] = [
    'https://example.com/"><script>alert(1)</script>',
    "https://example.com/?q=<img src=x onerror=alert(1)>",
    'http://example.com/" onmouseover="alert(1)',
    "https://example.com/#'><svg onload=alert(1)>",
]

# Link addresses the evidence form must refuse.
UNSAFE_LINK_URLS: list[str] = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "JaVaScRiPt&#x3a;alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
]

# Tags that user content must never produce on a page: the app itself uses none of them.
FORBIDDEN_TAGS = frozenset(
    {
        "img",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "style",
        "base",
        "frame",
        "frameset",
        "video",
        "audio",
        "source",
        "applet",
    }
)
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"}
)
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
# What the app's own pages legitimately contain.
OWN_SCRIPT = re.compile(r"^/static/[\w/.-]+\.js$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


class _Collector(HTMLParser):
    """Reads the page the way a browser tokenizes it (entities in attributes decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "script" and not OWN_SCRIPT.match(values.get("src", "")):
            self.problems.append(f"<script> {attrs}")
        if tag in FORBIDDEN_TAGS or (tag == "meta" and "http-equiv" in values):
            self.problems.append(f"<{tag}> {attrs}")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            if name in URL_ATTRIBUTES:
                folded = _CONTROL.sub("", value).lower()
                if folded.startswith(BAD_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value!r}>")


def executable_parts(html: str) -> list[str]:
    """Everything on the page that could run or load something an attacker chose."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems


def assert_inert(html: str, where: str = "") -> None:
    problems = executable_parts(html)
    assert not problems, f"{where}: executable content on the page: {problems}"


# File names of attachments: shown on the evidence page, the removal page and in
# error messages, and sent in Content-Disposition. Quotes, angle brackets, path parts, line breaks
# and a right-to-left override; each ends in .png so that a real PNG passes the type check.
FILE_NAMES: list[str] = [
    '"><img src=x onerror=alert(1)>.png',
    "'><svg onload=alert(1)>.png",
    'x" onmouseover="alert(1)" y=".png',
    "<script>alert(1)</script>.png",
    "<iframe src=javascript:alert(1)>.png",
    "javascript:alert(1).png",
    "..\\..\\<img src=x onerror=alert(1)>.png",
    "a\r\nContent-Type: text/html\r\n\r\n<body onload=alert(1)>.png",
    "evil\u202egnp.exe.png",
    "{{ config }}{% raw %}{{ 7*7 }}{% endraw %}.png",
    "&lt;img src=x onerror=alert(1)&gt;.png",
]

# Comments (markdown) and corroboration notes (plain text) in the conversation on an item: shown
# on the item page, in threads and replies, and next to a confirmation.
COMMENT_PAYLOADS: list[str] = [
    "> quote\n> <script>alert(1)</script>",
    "- item\n  <img src=x onerror=alert(1)>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "[x](https://example.com)<svg/onload=alert(1)>",
    "**<a href=javascript:alert(1)>bold</a>**",
    '" onmouseover="alert(1)',
    "</blockquote><script>alert(1)</script>",
    "</details><img src=x onerror=alert(1)>",
    "</textarea><svg onload=alert(1)>",
    "<!-- --><script>alert(1)</script><!-- -->",
    '[x](https://example.com/"onmouseover="alert(1))',
]

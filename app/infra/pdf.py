"""PDF rendering with WeasyPrint, behind a URL fetcher that denies everything by default.

WeasyPrint's own fetcher follows file:, http(s): and ftp: URLs and redirects, so a single
`<link rel="attachment" href="file:///etc/passwd">` or remote image in user-written text would
leak a file or make a request (FACTS.md). Ours serves `data:` URLs and a short list of the app's
own assets under the `rungs-asset:` scheme, and refuses the rest.
"""

from __future__ import annotations

import logging
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

ASSET_DIR = Path(__file__).resolve().parent.parent / "static" / "pdf"
ASSET_SCHEME = "rungs-asset:"
# The folders an asset may come from: the stylesheets' own, and the fonts the app ships.
ASSET_FOLDERS = (ASSET_DIR, ASSET_DIR / "fonts")

logger = logging.getLogger(__name__)


class BlockedURLError(ValueError):
    pass


class SafeURLFetcher(URLFetcher):
    """Only `data:` and `rungs-asset:<name>` for files in app/static/pdf (and its fonts/
    folder, as `rungs-asset:fonts/<name>`); no redirects."""

    def __init__(self):
        super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)
        self.blocked: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith(ASSET_SCHEME):
            return self._asset(url)
        if url.lower().startswith("data:"):
            return super().fetch(url, headers)
        self.blocked.append(url)
        raise BlockedURLError(f"blocked: {url[:200]}")

    def _asset(self, url: str):
        from weasyprint.urls import URLFetcherResponse

        name = url[len(ASSET_SCHEME) :]
        path = (ASSET_DIR / name).resolve()
        if path.parent not in ASSET_FOLDERS or not path.is_file():
            self.blocked.append(url)
            raise BlockedURLError(f"no such asset: {name[:100]}")
        return URLFetcherResponse(url, path.read_bytes())


def render_pdf(html: str, *, stylesheet: str) -> bytes:
    """Render HTML (metadata comes from its <title> and <meta> tags) with one of our stylesheets."""
    return render_pdf_pages(html, stylesheet=stylesheet)[0]


def render_pdf_pages(html: str, *, stylesheet: str) -> tuple[bytes, int]:
    """As render_pdf, with the number of pages."""
    fetcher = SafeURLFetcher()
    # Without a font configuration shared by the stylesheet and the render, WeasyPrint ignores
    # the stylesheet's @font-face rules and silently uses the machine's fonts.
    fonts = FontConfiguration()
    css = CSS(
        string=(ASSET_DIR / stylesheet).read_text(encoding="utf-8"),
        url_fetcher=fetcher,
        base_url=None,
        font_config=fonts,
    )
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(
        font_config=fonts, stylesheets=[css], pdf_tags=True
    )
    pdf = document.write_pdf(pdf_tags=True, uncompressed_pdf=False)
    if fetcher.blocked:
        logger.warning(
            "PDF rendering blocked %d URL(s): %s",
            len(fetcher.blocked),
            ", ".join(fetcher.blocked[:5]),
        )
    return pdf, len(document.pages)

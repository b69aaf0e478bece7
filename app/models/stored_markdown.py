"""Markdown fields whose safe HTML is kept beside them, made when the text is set, not on every
view (rendering was a tenth of a busy page's time).

A model lists its markdown fields in `markdown_fields`, has a `<field>_html` column for each and
`markdown_version` (which renderer made them: app/infra/markdown.VERSION). Setting a field through
the ORM renders it; a row whose HTML another renderer made renders all its fields again. Pages read
`row.html("field")`, or `markdown.stored(text, html, version)` for plain rows; HTML that is missing
or from another renderer is rendered when shown. Only app/infra/markdown.render writes the HTML
(and the migration that filled it, with a copy of the same renderer).
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from markupsafe import Markup
from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.infra import markdown


class StoredMarkdown:
    """Mixin: the renderer version of the row's stored HTML, and reading it."""

    markdown_fields: ClassVar[tuple[str, ...]]

    markdown_version: Mapped[str] = mapped_column(String(80), default="", server_default="")

    def html(self, field: str) -> Markup:
        """The field's text as safe HTML: the stored one when this renderer made it."""
        return markdown.stored(
            getattr(self, field), getattr(self, f"{field}_html"), self.markdown_version
        )


def keep_rendered(*models: type[StoredMarkdown]) -> None:
    """Render each markdown field of these models into its `_html` column when it is set."""
    for model in models:
        for field in model.markdown_fields:
            event.listen(getattr(model, field), "set", partial(_render_on_set, field))


def _render_on_set(field: str, target: StoredMarkdown, value, _old, _initiator) -> None:
    setattr(target, f"{field}_html", str(markdown.render(value)))
    if target.markdown_version != markdown.VERSION:
        for other in target.markdown_fields:
            if other != field:
                setattr(target, f"{other}_html", str(markdown.render(getattr(target, other))))
        target.markdown_version = markdown.VERSION

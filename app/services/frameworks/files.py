"""Reading and writing framework files in every supported format."""

from __future__ import annotations

from app.services.frameworks import (
    csv_format,
    monzo_format,
    store,
    versions,
    yaml_format,
)
from app.services.frameworks.document import FrameworkDoc, InvalidFrameworkError, Report

FORMATS = ("yaml", "monzo", "csv")
EXPORT_FORMATS = ("yaml", "csv")


def guess_format(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".md"):
        return "monzo"
    return "yaml"


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report = Report()
        report.error("", "the file is not UTF-8 text")
        raise InvalidFrameworkError(report) from None


def parse(text: str, fmt: str, *, filename: str = "") -> tuple[FrameworkDoc | None, Report]:
    if fmt == "yaml":
        return yaml_format.parse(text)
    if fmt == "csv":
        return csv_format.parse(text, filename=filename)
    if fmt == "monzo":
        return monzo_format.parse(text, filename=filename)
    raise ValueError(f"unknown format {fmt!r}")


def validate(text: str, fmt: str, *, filename: str = "") -> tuple[FrameworkDoc, Report]:
    """The document and its warnings; InvalidFrameworkError when there is any error."""
    doc, report = parse(text, fmt, filename=filename or f"framework.{fmt}")
    if doc is None or report.errors:
        raise InvalidFrameworkError(report)
    store.adopt_keys_by_name(doc, report)
    return doc, report


class Imported(tuple):
    """(version, report) of an import, and `is_new`: False when the file was identical to the
    published version or a draft, which is then given back instead of a new draft. A pair so
    that `version, report = import_text(...)` reads as before."""

    version = property(lambda self: self[0])
    report = property(lambda self: self[1])

    def __new__(cls, version, report: Report, *, is_new: bool):
        imported = super().__new__(cls, (version, report))
        imported.is_new = is_new
        return imported


def import_text(
    actor, text: str, fmt: str, *, filename: str = "", publish: bool = False, changelog: str = ""
) -> Imported:
    """Store the file as a new draft (and publish it if asked). A file identical to the
    published version or a draft stores nothing (a draft asked to be published is published)."""
    doc, report = validate(text, fmt, filename=filename)
    version, is_new = store.import_document(actor, doc)
    if publish and version.is_draft:
        versions.publish(actor, version, changelog=changelog or "Imported from a file.")
    return Imported(version, report, is_new=is_new)


def export(version_id: int, fmt: str) -> str:
    doc = store.to_document(store.load_version(version_id))
    if fmt == "csv":
        return csv_format.dump(doc)
    return yaml_format.dump(doc)

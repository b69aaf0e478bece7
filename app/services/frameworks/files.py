"""Reading and writing framework files in every supported format, and telling them apart."""

from __future__ import annotations

import re
from pathlib import PurePath

from app.services.frameworks import (
    csv_format,
    monzo_format,
    store,
    versions,
    yaml_format,
)
from app.services.frameworks.document import (
    MAX_BYTES,
    SUPPORTED_FORMATS,
    FrameworkDoc,
    InvalidFrameworkError,
    Report,
)

FORMATS = ("yaml", "monzo", "csv")
EXPORT_FORMATS = ("yaml", "csv")
EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".md": "monzo", ".markdown": "monzo", ".csv": "csv"}
# What a file of another name must start with to be read anyway (a download without a name, a
# file saved as .txt): the format line of a Rungs file, Monzo's front matter, the CSV header.
_RUNGS_YAML = re.compile(r"""^\{?\s*["']?format["']?\s*:\s*["']?rungs-framework/""", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
# (the CSV header starts with `track,level_code` or, since keys came in, `record,track_key`)
_CSV_HEADER = re.compile(r"\A\ufeff?\"?(?:track\"?,\"?level_code|record\"?,\"?track)", re.I)


def unreadable(message: str) -> InvalidFrameworkError:
    """The error for a file that cannot be read at all: one problem, no line."""
    report = Report()
    report.error("", message)
    return InvalidFrameworkError(report)


def detect_format(filename: str, data: bytes) -> str:
    """The format of an uploaded file, from its name or else its first bytes; a file Rungs
    cannot read (a web page, a script, a spreadsheet, a PDF) is refused naming the formats."""
    known = EXTENSIONS.get(PurePath(filename.lower()).suffix)
    if known:
        return known
    head = data[:4096].decode("utf-8", "replace")
    if _FRONT_MATTER.match(head):
        return "monzo"
    if _RUNGS_YAML.search(head):
        return "yaml"
    if _CSV_HEADER.match(head):
        return "csv"
    name = PurePath(filename).name or "this file"
    hint = ""
    if PurePath(filename.lower()).suffix in (".xlsx", ".xls", ".ods", ".numbers"):
        hint = " Save the spreadsheet as CSV (UTF-8) and import that."
    raise unreadable(f'"{name}" is not in a format Rungs can import. {SUPPORTED_FORMATS}.{hint}')


def decode(data: bytes) -> str:
    """The text of a file: UTF-8 (with or without a byte order mark) and at most MAX_BYTES."""
    if len(data) > MAX_BYTES:
        raise unreadable(
            f"the file is {len(data) / (1024 * 1024):.1f} MB; Rungs reads framework files of "
            f"up to {MAX_BYTES // (1024 * 1024)} MB"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise unreadable(
            f"the file is not UTF-8 text (byte {error.start + 1}, on line {line}, is "
            f"0x{data[error.start]:02X}): save it as UTF-8, or check that it is a framework "
            f"file at all. {SUPPORTED_FORMATS}."
        ) from None


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

"""Which files may be attached: an allowlist checked by content and by name; both must agree.

The name's extension says what the file claims to be; small structural checks of the bytes say
what it is. A web page or an SVG renamed to .png, a program renamed to .pdf, a ZIP that is not an
Office document, text with NUL bytes and images or PDFs with something glued after their end
(the usual polyglots) are refused. The content type we store and later send comes from this
table, never from what the browser claimed.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from app.core.errors import ValidationError

NAME_MAX = 150
ZIP_ENTRIES_MAX = 5_000
ZIP_PART_MAX = 1024 * 1024  # [Content_Types].xml and ODF's mimetype are small

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What a browser would treat as a page or a script: refused inside images and PDFs.
MARKUP = re.compile(
    rb"<(?:script|html|svg|iframe|body|object|embed|frameset)[\s/>]|<!doctype\s+html", re.I
)
MARKUP_START = re.compile(r"\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe)\b", re.I)
# Control characters other than tab, line feed, form feed and carriage return: not text.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
OOXML = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}
ODF = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]
    matches: Callable[[bytes, str], bool]  # (content, extension)


# --- content checks -----------------------------------------------------------------------------


def _is_pdf(data: bytes, _ext: str) -> bool:
    end = data.rfind(b"%%EOF")
    # Nothing but line breaks after the last %%EOF: a ZIP or a page glued on is refused.
    return data.startswith(b"%PDF-") and end > 0 and not data[end + 5 :].strip()


def _is_png(data: bytes, _ext: str) -> bool:
    """Walk the chunks: IHDR first, every CRC right, IEND last and nothing after it."""
    if not data.startswith(PNG_SIGNATURE):
        return False
    view = memoryview(data)
    position, first = len(PNG_SIGNATURE), True
    while position + 12 <= len(data):
        length = int.from_bytes(view[position : position + 4], "big")
        kind = bytes(view[position + 4 : position + 8])
        end = position + 12 + length
        if end > len(data) or not kind.isalpha() or (first and kind != b"IHDR"):
            return False
        if zlib.crc32(view[position + 4 : end - 4]) != int.from_bytes(view[end - 4 : end], "big"):
            return False
        if kind == b"IEND":
            return end == len(data)
        position, first = end, False
    return False


def _is_jpeg(data: bytes, _ext: str) -> bool:
    """Walk the marker segments up to the image data, which must end with an EOI marker."""
    if not data.startswith(b"\xff\xd8\xff"):
        return False
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:  # start of scan: compressed data follows, up to the end marker
            return data.find(b"\xff\xd9", position) != -1
        if marker in (0x01, *range(0xD0, 0xD8)):
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            return False
        position += 2 + length
    return False


def _color_table(flags: int) -> int:
    return 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data):
        size = data[position]
        position += 1 + size
        if size == 0:
            return position
    return -1


def _is_gif(data: bytes, _ext: str) -> bool:
    """Walk the blocks: extensions and images up to the trailer, with nothing after it."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 14:
        return False
    position = 13 + _color_table(data[10])
    while 0 <= position < len(data):
        block = data[position]
        if block == 0x3B:
            return position + 1 == len(data)
        if block == 0x21:
            position = _skip_sub_blocks(data, position + 2)
        elif block == 0x2C and position + 11 <= len(data):
            position += 10 + _color_table(data[position + 9])
            position = _skip_sub_blocks(data, position + 1)  # after the LZW code size
        else:
            return False
    return False


def _is_webp(data: bytes, _ext: str) -> bool:
    size = int.from_bytes(data[4:8], "little")
    return (
        data[:4] == b"RIFF"
        and data[8:15] == b"WEBPVP8"
        and data[15:16] in (b" ", b"L", b"X")
        and size + 8 == len(data)
    )


def _is_text(data: bytes, _ext: str) -> bool:
    """UTF-8, no NUL or other control characters, and not a web page or SVG in disguise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if CONTROL_CHARACTERS.search(text):
        return False
    return MARKUP_START.match(text) is None


def _zip(data: bytes) -> zipfile.ZipFile | None:
    """A ZIP with nothing before its first entry and nothing after its directory, or None."""
    if not data.startswith(b"PK\x03\x04") or data[-22:-18] != b"PK\x05\x06":
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if not entries or len(entries) > ZIP_ENTRIES_MAX or min(e.header_offset for e in entries):
        return None
    return archive


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        with archive.open(name) as part:
            content = part.read(ZIP_PART_MAX + 1)
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, RuntimeError, EOFError):
        return None  # missing, encrypted or damaged
    return content if len(content) <= ZIP_PART_MAX else None


def _is_ooxml(data: bytes, ext: str) -> bool:
    """Office Open XML: [Content_Types].xml names the main part of this kind; no macros."""
    archive = _zip(data)
    if archive is None:
        return False
    main_part, main_type = OOXML[ext]
    names = set(archive.namelist())
    if main_part not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return False
    types = _read_part(archive, "[Content_Types].xml")
    return types is not None and main_type.encode() in types


def _is_odf(data: bytes, ext: str) -> bool:
    """OpenDocument: a stored first entry named mimetype holding this kind's type."""
    archive = _zip(data)
    if archive is None:
        return False
    first = archive.infolist()[0]
    if first.filename != "mimetype" or first.compress_type != zipfile.ZIP_STORED:
        return False
    return _read_part(archive, "mimetype") == ODF[ext].encode()


TYPES = (
    FileType("PDF", "application/pdf", ("pdf",), _is_pdf),
    FileType("PNG image", "image/png", ("png",), _is_png),
    FileType("JPEG image", "image/jpeg", ("jpg", "jpeg"), _is_jpeg),
    FileType("GIF image", "image/gif", ("gif",), _is_gif),
    FileType("WebP image", "image/webp", ("webp",), _is_webp),
    FileType("text file", "text/plain; charset=utf-8", ("txt",), _is_text),
    FileType("CSV file", "text/csv; charset=utf-8", ("csv",), _is_text),
    FileType("Markdown file", "text/markdown; charset=utf-8", ("md", "markdown"), _is_text),
    FileType(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
        _is_ooxml,
    ),
    FileType(
        "Excel workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
        _is_ooxml,
    ),
    FileType(
        "PowerPoint presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ("pptx",),
        _is_ooxml,
    ),
    FileType("OpenDocument text", ODF["odt"], ("odt",), _is_odf),
    FileType("OpenDocument spreadsheet", ODF["ods"], ("ods",), _is_odf),
    FileType("OpenDocument presentation", ODF["odp"], ("odp",), _is_odf),
)
BY_EXTENSION = {ext: kind for kind in TYPES for ext in kind.extensions}
BY_CONTENT_TYPE = {kind.content_type: kind for kind in TYPES}
ACCEPT = ",".join(f".{ext}" for ext in BY_EXTENSION)
ALLOWED = (
    "Allowed: PDF; PNG, JPEG, GIF and WebP images; text, CSV and Markdown (.txt, .csv, .md); "
    "Word, Excel and PowerPoint (.docx, .xlsx, .pptx); OpenDocument (.odt, .ods, .odp)."
)
SIGNATURES = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\xca\xfe\xba\xbe", "a program"),
    (b"\xcf\xfa\xed\xfe", "a program"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"%PDF-", "a PDF"),
    (PNG_SIGNATURE, "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF file (WebP, WAV or AVI)"),
)


# --- the check ----------------------------------------------------------------------------------


def check(name: str, content: bytes) -> FileType:
    """The allowed type of this file, or a ValidationError that says what is allowed."""
    ext = extension(name)
    kind = BY_EXTENSION.get(ext)
    if kind is None:
        shown = f"“.{ext}” files" if ext else "Files without an extension"
        raise ValidationError(f"{shown} cannot be attached. {ALLOWED}", field="file")
    if not content:
        raise ValidationError(f"“{name}” is empty.", field="file")
    if not kind.matches(content, ext):
        found = describe(content)
        if found == with_article(kind.label):
            reason = (
                f"“{name}” looks like {found} but is not a well-formed one: it is damaged or has "
                "something else attached, so it was refused."
            )
        else:
            reason = (
                f"“{name}” is named as {with_article(kind.label)} but its content is {found}, "
                "so it was refused."
            )
        raise ValidationError(f"{reason} {ALLOWED}", field="file")
    if kind.matches is not _is_text and MARKUP.search(content):
        raise ValidationError(
            f"“{name}” is {with_article(kind.label)} with web page or script code inside it, so "
            "it was refused. Save it again from the program that made it and retry.",
            field="file",
        )
    return kind


def with_article(label: str) -> str:
    return f"{'an' if label[0] in 'AEIOU' else 'a'} {label}"


def describe(content: bytes) -> str:
    """What the content looks like, in words, for an error message."""
    for signature, words in SIGNATURES:
        if content.startswith(signature):
            return words
    head = content[:4096].decode("utf-8", "replace")
    if re.match(r"\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<svg\b", head, re.I | re.S):
        return "an SVG image"
    if MARKUP_START.match(head):
        return "a web page (HTML or XML)"
    if _is_text(content, "txt"):
        return "plain text"
    try:
        content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "binary data" if b"\x00" in content else "text that is not valid UTF-8"
    return "text with control characters such as NUL bytes"


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def clean_name(raw: str | None) -> str:
    """The file's own name only: no folders, no control or direction characters, short."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 10:
            name = f"{stem[: NAME_MAX - len(ext) - 1].rstrip(' .')}.{ext}"
        else:
            name = name[:NAME_MAX]
    return name


def ascii_name(name: str) -> str:
    """A plain ASCII version of a name, safe in a header and on every file system."""
    ext = extension(name)
    stem = name[: -len(ext) - 1] if ext else name
    simple = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    simple = re.sub(r"[^A-Za-z0-9._()\- ]+", "_", simple)
    simple = re.sub(r"_{2,}", "_", re.sub(r"\s+", " ", simple)).strip(" ._") or "attachment"
    return f"{simple}.{ext}" if ext else simple


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII filename and the exact name as RFC 5987 filename*."""
    quoted = quote(name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{quoted}"


def label_of(content_type: str) -> str:
    kind = BY_CONTENT_TYPE.get(content_type)
    return kind.label[0].upper() + kind.label[1:] if kind else "File"

"""Real files of every allowed type, made the way the programs people use make them."""

from __future__ import annotations

import io
import zipfile

from PIL import Image
from pypdf import PdfWriter


def image(kind: str = "PNG", size=(40, 30), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind, **options)
    return buffer.getvalue()


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


OOXML_PARTS = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}


def office(kind: str = "docx", *, content_types: bool = True, extra: dict | None = None) -> bytes:
    part, main_type = OOXML_PARTS[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if content_types:
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxml'
                'formats.org/package/2006/content-types"><Override PartName="/'
                f'{part}" ContentType="application/vnd.openxmlformats-officedocument.'
                f'{main_type}"/></Types>',
            )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(part, "<document>Quarterly review</document>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def odf(mimetype: str = "application/vnd.oasis.opendocument.text") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def png_with_text_chunk(text: bytes) -> bytes:
    """A well-formed PNG (right CRCs) carrying `text` in a tEXt chunk: a polyglot."""
    import struct
    import zlib

    data = image("PNG")
    chunk_type = b"tEXt"
    body = b"Comment\x00" + text
    chunk = (
        struct.pack(">I", len(body))
        + chunk_type
        + body
        + struct.pack(">I", zlib.crc32(chunk_type + body))
    )
    return data[:33] + chunk + data[33:]  # right after IHDR (8 + 25 bytes)


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"

"""Attachments: the allowlist by content and by name, storage, limits, removal and purging."""

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.infra import file_types
from app.models import Attachment, User, Visibility
from app.models.base import utcnow
from app.services import evidence as evidence_service
from app.services import storage
from app.services.evidence import attachments
from tests import file_samples as samples
from tests.evidence_helpers import publish_and_place, record

ALLOWED_FILES = [
    ("launch.pdf", samples.pdf, "application/pdf"),
    ("screen.png", lambda: samples.image("PNG"), "image/png"),
    ("photo.jpg", lambda: samples.image("JPEG"), "image/jpeg"),
    ("photo.JPEG", lambda: samples.image("JPEG", quality=70), "image/jpeg"),
    ("chart.gif", lambda: samples.image("GIF"), "image/gif"),
    ("chart.webp", lambda: samples.image("WEBP"), "image/webp"),
    ("notes.txt", lambda: "Notes — ✓ café\r\n\tindented\n".encode(), "text/plain; charset=utf-8"),
    (
        "data.csv",
        lambda: b"\xef\xbb\xbfmetric,before,after\nactivation,31,38\n",
        "text/csv; charset=utf-8",
    ),
    (
        "retro.md",
        lambda: b"# Retro\n\nWe wrote <script> in a sentence.\n",
        "text/markdown; charset=utf-8",
    ),
    ("plan.docx", samples.office, file_types.BY_EXTENSION["docx"].content_type),
    ("model.xlsx", lambda: samples.office("xlsx"), file_types.BY_EXTENSION["xlsx"].content_type),
    ("deck.pptx", lambda: samples.office("pptx"), file_types.BY_EXTENSION["pptx"].content_type),
    ("memo.odt", samples.odf, "application/vnd.oasis.opendocument.text"),
]


@pytest.mark.parametrize(("name", "make", "content_type"), ALLOWED_FILES)
def test_real_files_of_every_allowed_type_are_accepted(name, make, content_type):
    assert file_types.check(name, make()).content_type == content_type


REFUSED = [
    # (name, content, words in the message)
    ("page.png", samples.HTML, "is named as a PNG image but its content is a web page"),
    ("logo.png", samples.SVG, "its content is an SVG image"),
    ("logo.svg", samples.SVG, "“.svg” files cannot be attached"),
    ("page.html", samples.HTML, "“.html” files cannot be attached"),
    ("setup.exe", samples.EXE, "“.exe” files cannot be attached"),
    ("invoice.pdf", samples.EXE, "is named as a PDF but its content is a Windows program"),
    ("notes.txt", b"hello\x00world", "control characters such as NUL bytes"),
    ("notes.txt", samples.HTML, "is named as a text file but its content is a web page"),
    ("notes.txt", b"caf\xe9 latin-1", "text that is not valid UTF-8"),
    ("plan.docx", samples.plain_zip(), "is named as a Word document but its content is a ZIP"),
    ("plan.docx", samples.office(content_types=False), "its content is a ZIP archive"),
    ("plan.docx", samples.office("xlsx"), "its content is a ZIP archive"),
    ("macro.docx", samples.office(extra={"word/vbaProject.bin": b"x"}), "ZIP archive"),
    ("memo.odt", samples.odf("application/vnd.oasis.opendocument.spreadsheet"), "ZIP"),
    ("photo.jpg", samples.image("PNG"), "is named as a JPEG image but its content is a PNG"),
    ("README", b"hello", "Files without an extension cannot be attached"),
    ("empty.txt", b"", "is empty"),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED)
def test_content_and_name_must_agree(name, content, message):
    with pytest.raises(ValidationError) as error:
        file_types.check(name, content)
    assert message in error.value.message
    assert error.value.field == "file"
    if "cannot be attached" in message or "is named as" in message:
        assert "Allowed: PDF; PNG, JPEG, GIF and WebP images" in error.value.message


POLYGLOTS = [
    ("glued.png", samples.image("PNG") + b"<html><script>alert(1)</script></html>"),
    ("glued.gif", samples.image("GIF") + b"<script>alert(1)</script>"),
    ("glued.pdf", samples.pdf() + samples.plain_zip()),
    ("glued.webp", samples.image("WEBP") + b"<svg onload=alert(1)>"),
    ("prefixed.docx", samples.HTML + samples.office()),
    ("trailing.docx", samples.office() + samples.HTML),
]


@pytest.mark.parametrize(("name", "content"), POLYGLOTS)
def test_files_with_something_glued_on_are_refused(name, content):
    with pytest.raises(ValidationError, match="so it was refused"):
        file_types.check(name, content)


def test_well_formed_images_carrying_markup_are_refused():
    png = samples.png_with_text_chunk(b"<html><script>alert(1)</script></html>")
    assert file_types._is_png(png, "png")  # the structure is fine: only the scan catches it
    with pytest.raises(ValidationError, match="web page or script code inside it"):
        file_types.check("innocent.png", png)
    harmless = samples.png_with_text_chunk(b"Made with a screenshot tool")
    assert file_types.check("innocent.png", harmless).content_type == "image/png"


def test_damaged_files_say_so():
    png = samples.image("PNG")
    broken = png[:40] + bytes([png[40] ^ 0xFF]) + png[41:]  # a CRC no longer matches
    with pytest.raises(ValidationError, match="looks like a PNG image but is not a well-formed"):
        file_types.check("broken.png", broken)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\ana\\Desktop\\review.pdf", "review.pdf"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override: "evilexe.png" on screen
        ("two\nlines\r.txt", "twolines.txt"),
        ("  spaced   out  .txt ", "spaced out .txt"),
        ("...hidden.txt", "hidden.txt"),
        ("Résumé \u2013 Q3.pdf", "Résumé \u2013 Q3.pdf"),
        (None, ""),
    ],
)
def test_names_are_cleaned(raw, clean):
    assert file_types.clean_name(raw) == clean


def test_long_names_keep_their_extension():
    name = file_types.clean_name("a" * 400 + ".pdf")
    assert len(name) == file_types.NAME_MAX and name.endswith("a.pdf")


@pytest.mark.parametrize(
    ("name", "ascii_name"),
    [
        ('"><img src=x onerror=alert(1)>.png', "img src_x onerror_alert(1).png"),
        ("Résumé \u2013 Q3 😀.pdf", "Resume Q3.pdf"),
        ("报告.pdf", "attachment.pdf"),
        ('a;b\\c".txt', "a_b_c.txt"),
    ],
)
def test_content_disposition_is_safe_ascii_with_the_exact_name_in_utf8(name, ascii_name):
    header = file_types.content_disposition(name)
    assert header.startswith(f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''")
    assert header.isascii() and "\n" not in header and "<" not in header
    from urllib.parse import unquote

    assert unquote(header.split("filename*=UTF-8''")[1]) == name


# --- storing ----------------------------------------------------------------------------------


@pytest.fixture
def item(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2])
    return record(app, org.pm_a1)


def person(p) -> User:
    return db.session.get(User, p.id)


def attach(owner, item_id, name="screen.png", content=None):
    content = samples.image("PNG") if content is None else content
    evidence = evidence_service.get_evidence(item_id)
    return attachments.add_attachment(person(owner), evidence, name, io.BytesIO(content))


def test_files_are_stored_outside_the_web_root_under_random_names(app, org, item, ctx):
    content = samples.image("PNG")
    added = attach(org.pm_a1, item, "C:\\shots\\<i>Launch<i>.png", content)
    db.session.commit()
    path = storage.local_path(attachments.key_of(added.stored_name))
    data_dir = Path(app.config["RUNGS_DATA_DIR"]).resolve()
    assert path.resolve().is_relative_to(data_dir / "attachments")
    assert not path.resolve().is_relative_to(Path(app.static_folder).resolve())
    assert path.parent.name == added.stored_name[:2]
    assert len(added.stored_name) == 64 and "Launch" not in added.stored_name
    assert path.read_bytes() == content
    assert added.sha256 == hashlib.sha256(content).hexdigest()
    assert added.size == len(content)
    assert added.original_name == "<i>Launch<i>.png"  # kept as data, escaped where shown
    assert added.content_type == "image/png"
    assert not list(path.parent.glob(".part-*"))  # the temporary file was renamed
    other = attach(org.pm_a1, item, "C:\\shots\\<i>Launch<i>.png", content)
    assert other.stored_name != added.stored_name


def test_only_the_owner_may_attach_and_not_to_the_trash(app, org, item, ctx):
    with pytest.raises(NotFoundError):
        attach(org.pm_a2, item)
    with pytest.raises(NotFoundError):
        attach(org.manager_a, item)
    evidence_service.trash_evidence(person(org.pm_a1), evidence_service.get_evidence(item))
    with pytest.raises(ValidationError, match="in the Trash"):
        attach(org.pm_a1, item)


def test_size_limit(app, org, item, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 2048)
    attach(org.pm_a1, item, "small.txt", b"x" * 2048)
    with pytest.raises(ValidationError, match=r"“big.txt” is larger than 0.00195312 MB"):
        attach(org.pm_a1, item, "big.txt", b"x" * 2049)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    with pytest.raises(ValidationError, match="larger than 10 MB"):
        attach(org.pm_a1, item, "big.txt", b"x" * (10 * 1024 * 1024 + 1))


def test_files_per_item_limit(app, org, item, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_EVIDENCE", 2)
    attach(org.pm_a1, item)
    attach(org.pm_a1, item)
    with pytest.raises(ValidationError, match="at most 2 files"):
        attach(org.pm_a1, item)


@pytest.fixture(params=storage.BACKENDS)
def backend(request, app, monkeypatch):
    """The tests below run with files in the data folder and in the database."""
    monkeypatch.setitem(app.config, "FILE_STORAGE", request.param)
    return request.param


def stored(name: str) -> bool:
    return storage.exists(attachments.key_of(name))


def test_a_rolled_back_upload_leaves_no_file(app, org, item, ctx, backend):
    added = attach(org.pm_a1, item)
    name = added.stored_name
    assert stored(name)
    db.session.rollback()
    assert not stored(name)
    assert db.session.execute(select(Attachment)).first() is None


def test_a_removed_file_goes_only_when_the_removal_commits(app, org, item, ctx, backend):
    added = attach(org.pm_a1, item)
    db.session.commit()
    name = added.stored_name
    with pytest.raises(NotFoundError):
        attachments.remove_attachment(person(org.pm_a2), attachments.get_attachment(added.id))
    attachments.remove_attachment(person(org.pm_a1), attachments.get_attachment(added.id))
    db.session.rollback()  # changed their mind (or the database failed): the file stays
    assert stored(name) and attachments.get_attachment(added.id)
    attachments.remove_attachment(person(org.pm_a1), attachments.get_attachment(added.id))
    db.session.commit()
    assert not stored(name)
    with pytest.raises(NotFoundError):
        attachments.get_attachment(added.id)


def test_purging_the_trash_deletes_the_files_too(app, org, item, ctx, backend):
    kept_item = record(app, org.pm_a1, title="Kept", visibility=Visibility.PRIVATE)
    doomed = attach(org.pm_a1, item).stored_name
    kept = attach(org.pm_a1, kept_item).stored_name
    evidence_service.trash_evidence(person(org.pm_a1), evidence_service.get_evidence(item))
    db.session.commit()
    assert evidence_service.purge_trash() == 0
    db.session.commit()
    assert stored(doomed)
    assert evidence_service.purge_trash(now=utcnow() + timedelta(days=31)) == 1
    if backend == storage.LOCAL:  # (the database deletes the rows in the transaction)
        assert stored(doomed)  # until the purge commits
    db.session.commit()
    assert not stored(doomed)
    assert stored(kept)
    assert db.session.execute(select(Attachment.evidence_id)).scalars().all() == [kept_item]


def test_delete_files_of_removes_the_files_of_deleted_evidence(app, org, item, ctx, backend):
    name = attach(org.pm_a1, item).stored_name
    db.session.commit()
    assert attachments.delete_files_of([item]) == 1
    assert attachments.delete_files_of([]) == 0
    db.session.delete(evidence_service.get_evidence(item))
    db.session.commit()
    assert not stored(name)


def test_stored_names_are_checked_before_they_become_paths(ctx):
    with pytest.raises(ValueError, match="not a stored attachment name"):
        attachments.key_of("../../rungs.db")

"""Attachments and the personal data export and import, through HTTP."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from html import unescape
from urllib.parse import unquote

import pytest
from sqlalchemy import event, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import Attachment, Evidence, User, Visibility
from app.services import evidence as evidence_service
from app.services import storage
from app.services.evidence import attachments
from tests import file_samples as samples
from tests.evidence_helpers import evidence_input, publish_and_place, record
from tests.factories import sign_in
from tests.xss_corpus import FILE_NAMES, assert_inert

CSRF = re.compile(r'name="(?:attachment-)?csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1, org.manager_a])
    return org


def signed_in(app, who):
    client = app.test_client()
    sign_in(client, who)
    return client


def upload(client, item_id, name, content, **extra):
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(
        {
            "attachment-csrf_token": client.csrf_token(),
            "attachment-file": FileStorage(io.BytesIO(content), as_a_browser_sends(name)),
        }
    )
    return client.post(
        f"/evidence/{item_id}/attachments",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        **extra,
    )


def as_a_browser_sends(name: str) -> str:
    """Browsers percent-encode these in a multipart file name (werkzeug decodes %22 only)."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def stored_attachments(app) -> list[Attachment]:
    with app.app_context():
        rows = db.session.execute(select(Attachment).order_by(Attachment.id)).scalars().all()
        for row in rows:
            db.session.expunge(row)
        return rows


def file_of(app, attachment: Attachment):
    with app.app_context():
        return storage.local_path(attachments.key_of(attachment.stored_name))


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


# --- uploading ----------------------------------------------------------------------------------


def test_the_owner_attaches_a_file_and_sees_it_on_the_item(app, placed):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    page = alice.get(f"/evidence/{item}").get_data(as_text=True)
    assert 'id="attachments"' in page and "No files attached." in page
    assert '<label for="attachment-file">Add a file</label>' in page
    assert "Up to 10 MB each, 10 files per item" in page
    png = samples.image("PNG")
    response = upload(alice, item, "Launch dashboard.png", png)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/evidence/{item}#attachments"
    page = alice.get(f"/evidence/{item}").get_data(as_text=True)
    assert "“Launch dashboard.png” was attached." in page
    (added,) = stored_attachments(app)
    assert f'href="/attachments/{added.id}" download>Launch dashboard.png</a>' in page
    assert f"PNG image · {len(png)} bytes" in page
    assert f'href="/attachments/{added.id}/delete">Remove' in page
    assert file_of(app, added).read_bytes() == png


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("chart.png", samples.HTML, "is named as a PNG image but its content is a web page"),
        ("logo.png", samples.SVG, "its content is an SVG image"),
        ("invoice.pdf", samples.EXE, "its content is a Windows program"),
        ("setup.exe", samples.EXE, "“.exe” files cannot be attached"),
        ("notes.txt", b"a\x00b", "control characters such as NUL bytes"),
        ("plan.docx", samples.office(content_types=False), "its content is a ZIP archive"),
    ],
)
def test_a_refused_file_is_explained_next_to_the_field(app, placed, name, content, message):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    response = upload(alice, item, name, content)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'id="attachment-file-error">([^<]*)</p>', page)
    assert error and message in unescape(error.group(1))
    assert "Allowed: PDF; PNG, JPEG, GIF and WebP images" in unescape(error.group(1))
    assert 'aria-invalid="true"' in page
    assert stored_attachments(app) == []


def test_an_upload_without_a_file_asks_for_one(app, placed):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    response = alice.post(
        f"/evidence/{item}/attachments",
        data={"attachment-csrf_token": alice.csrf_token()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert 'id="attachment-file-error">Choose a file to attach.' in response.get_data(as_text=True)


def test_a_request_larger_than_the_limit_gets_a_clear_413_page(app, placed):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    response = upload(alice, item, "huge.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024 + 10))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "That file is too large" in page
    assert "Attachments can be at most 10 MB" in page and "Nothing was saved" in page
    assert stored_attachments(app) == []


def test_a_file_over_the_configured_limit_is_refused_by_the_check(app, make_app, placed):
    small = make_app(ATTACHMENT_MAX_BYTES=2048, RUNGS_DATA_DIR=app.config["RUNGS_DATA_DIR"])
    assert small.config["MAX_CONTENT_LENGTH"] == 2048 + 1024 * 1024
    item = record(app, placed.pm_a1)
    alice = signed_in(small, placed.pm_a1)
    assert upload(alice, item, "ok.txt", b"x" * 2048).status_code == 302
    response = upload(alice, item, "big.txt", b"x" * 2049)
    assert response.status_code == 400
    assert "“big.txt” is larger than" in unescape(response.get_data(as_text=True))
    assert len(stored_attachments(app)) == 1


def test_the_eleventh_file_is_refused(app, placed, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_EVIDENCE", 2)
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    for number in range(2):
        assert upload(alice, item, f"{number}.txt", b"text").status_code == 302
    page = alice.get(f"/evidence/{item}").get_data(as_text=True)
    assert "carries 2 files, the most it can" in page and 'id="attachment-file"' not in page
    response = upload(alice, item, "third.txt", b"text")
    assert response.status_code == 400
    assert "at most 2 files" in response.get_data(as_text=True)


def test_only_the_owner_may_add_or_remove_files(app, placed):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    assert upload(alice, item, "a.txt", b"text").status_code == 302
    (added,) = stored_attachments(app)
    manager = signed_in(app, placed.manager_a)
    page = manager.get(f"/evidence/{item}").get_data(as_text=True)
    assert f'href="/attachments/{added.id}" download>' in page  # may download
    assert 'id="attachment-file"' not in page and "/delete" not in page
    assert manager.get(f"/evidence/{item}/attachments").status_code == 404
    assert upload(manager, item, "b.txt", b"text").status_code == 404
    assert manager.get(f"/attachments/{added.id}/delete").status_code == 404
    assert manager.post_form(f"/attachments/{added.id}/delete").status_code == 404
    assert len(stored_attachments(app)) == 1 and file_of(app, added).exists()


def test_removing_asks_first_then_deletes_the_file(app, placed):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    upload(alice, item, "retro.md", b"# Retro\n")
    (added,) = stored_attachments(app)
    confirm = alice.get(f"/attachments/{added.id}/delete")
    assert confirm.status_code == 200
    assert "is deleted for good: it cannot be restored" in confirm.get_data(as_text=True)
    assert file_of(app, added).exists()
    response = alice.post_form(f"/attachments/{added.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/evidence/{item}#attachments"
    assert "“retro.md” was removed." in alice.get(f"/evidence/{item}").get_data(as_text=True)
    assert stored_attachments(app) == [] and not file_of(app, added).exists()


def test_files_of_an_item_in_the_trash_stay_but_cannot_change(app, placed):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    upload(alice, item, "a.txt", b"text")
    (added,) = stored_attachments(app)
    assert alice.post_form(f"/evidence/{item}/delete").status_code == 302
    page = alice.get(f"/evidence/{item}").get_data(as_text=True)
    assert "Restore the item to add or remove files." in page
    assert 'id="attachment-file"' not in page
    download = alice.get(f"/attachments/{added.id}")
    assert download.status_code == 200
    download.close()
    response = upload(alice, item, "b.txt", b"text")
    assert response.status_code == 400
    assert "Restore it to add files" in response.get_data(as_text=True)
    removed = alice.post_form(f"/attachments/{added.id}/delete", follow_redirects=True)
    assert "restore it to remove files" in removed.get_data(as_text=True)
    assert len(stored_attachments(app)) == 1


# --- downloading --------------------------------------------------------------------------------


def test_downloads_are_attachments_with_the_stored_type_and_a_safe_name(app, placed):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    content = b"metric,before,after\nactivation,31,38\n"
    token = alice.csrf_token()
    alice.post(
        f"/evidence/{item}/attachments",
        data={
            "attachment-csrf_token": token,
            # The browser claims HTML; the stored type comes from the allowlist.
            "attachment-file": (io.BytesIO(content), "Résumé \u2013 Q3.csv", "text/html"),
        },
        content_type="multipart/form-data",
    )
    (added,) = stored_attachments(app)
    response = alice.get(f"/attachments/{added.id}")
    assert response.status_code == 200
    assert response.data == content
    headers = response.headers
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"Resume Q3.csv\"; filename*=UTF-8''")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Résumé \u2013 Q3.csv"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert headers["Cache-Control"] == "no-store"
    response.close()


OWNER_IS_BEA = {  # pm_b1: manager manager_b, skip-level head, mentor pm_a2
    "pm_b1": (200, 200, 200),
    "manager_b": (200, 404, 404),
    "head": (200, 404, 404),
    "pm_a2": (200, 404, 404),
    "pm_a1": (404, 404, 404),
    "manager_a": (404, 404, 404),
    "director": (404, 404, 404),
}


@pytest.mark.parametrize(("who", "expected"), OWNER_IS_BEA.items())
def test_who_may_download(app, placed, who, expected):
    """(shared item, private draft, shared item in the Trash)"""
    bea = signed_in(app, placed.pm_b1)
    items = [
        record(app, placed.pm_b1, title="Shared"),
        record(app, placed.pm_b1, title="Draft", visibility=Visibility.PRIVATE),
        record(app, placed.pm_b1, title="Trashed"),
    ]
    for item in items:
        assert upload(bea, item, "proof.pdf", samples.pdf()).status_code == 302
    bea.post_form(f"/evidence/{items[2]}/delete")
    client = signed_in(app, getattr(placed, who))
    for attachment, status in zip(stored_attachments(app), expected, strict=True):
        response = client.get(f"/attachments/{attachment.id}")
        assert response.status_code == status, (who, attachment.id)
        if status == 404:
            assert response.data[:4] != b"%PDF"
        response.close()
    assert client.get("/attachments/999999").status_code == 404


def test_anonymous_downloads_go_to_sign_in(app, client, placed):
    item = record(app, placed.pm_a1)
    upload(signed_in(app, placed.pm_a1), item, "a.txt", b"text")
    (added,) = stored_attachments(app)
    response = client.get(f"/attachments/{added.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_corroborating_peer_may_download_what_they_were_asked_about(app, placed):
    from app.models import Corroboration

    item = record(app, placed.pm_a1)  # shared with Alice's line, which Bea is not in
    upload(signed_in(app, placed.pm_a1), item, "a.txt", b"text")
    (added,) = stored_attachments(app)
    peer = signed_in(app, placed.pm_b1)
    assert peer.get(f"/attachments/{added.id}").status_code == 404
    with app.app_context():
        db.session.add(Corroboration(evidence_id=item, peer_id=placed.pm_b1.id))
        db.session.commit()
    response = peer.get(f"/attachments/{added.id}")
    assert response.status_code == 200
    response.close()
    with app.app_context():  # a private draft again: only Alice's, whoever was asked
        db.session.get(Evidence, item).visibility = Visibility.PRIVATE
        db.session.commit()
    assert peer.get(f"/attachments/{added.id}").status_code == 404


# --- file names are data ------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILE_NAMES)
def test_file_names_stay_inert_wherever_they_are_shown(app, placed, name):
    item = record(app, placed.pm_a1)
    alice = signed_in(app, placed.pm_a1)
    refused = upload(alice, item, name, samples.HTML)  # the error message repeats the name
    assert refused.status_code == 400
    assert_inert(refused.get_data(as_text=True), f"upload error for {name!r}")
    assert upload(alice, item, name, samples.image("PNG")).status_code == 302
    (added,) = stored_attachments(app)
    shown = added.original_name
    assert "\r" not in shown and "\n" not in shown and "\u202e" not in shown
    pages = {
        "owner's item": alice.get(f"/evidence/{item}", follow_redirects=True),
        "manager's item": signed_in(app, placed.manager_a).get(f"/evidence/{item}"),
        "removal": alice.get(f"/attachments/{added.id}/delete"),
    }
    for where, response in pages.items():
        html = response.get_data(as_text=True)
        assert_inert(html, f"{where} for {name!r}")
        assert shown in text_of(html), where
    download = alice.get(f"/attachments/{added.id}")
    disposition = download.headers["Content-Disposition"]
    ascii_part = re.fullmatch(
        r'attachment; filename="([^"]*)"; filename\*=UTF-8\'\'(\S+)', disposition
    )
    assert ascii_part, disposition
    assert re.fullmatch(r"[A-Za-z0-9._() \-]+", ascii_part.group(1))
    assert unquote(ascii_part.group(2)) == shown
    download.close()


# --- export and import --------------------------------------------------------------------------


def test_the_export_page_says_what_the_zip_holds(app, placed):
    item = record(app, placed.pm_a1)
    record(app, placed.pm_a1, title="Draft", visibility=Visibility.PRIVATE)
    alice = signed_in(app, placed.pm_a1)
    upload(alice, item, "a.txt", b"12345")
    page = text_of(alice.get("/account/export").get_data(as_text=True))
    assert "2 evidence items, drafts and shared ones" in page
    assert "1 attached file (5 bytes)" in page


def test_downloading_the_export(app, placed):
    item = record(app, placed.pm_a1, title="Launched CSV import")
    alice = signed_in(app, placed.pm_a1)
    png = samples.image("PNG")
    upload(alice, item, "dashboard.png", png)
    response = alice.post_form("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert re.fullmatch(
        r"attachment; filename=rungs-export-\d{4}-\d\d-\d\d\.zip",
        response.headers["Content-Disposition"],
    )
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    response.close()
    document = json.loads(archive.read("rungs-export.json"))
    assert document["person"]["email"] == placed.pm_a1.email
    (exported,) = document["evidence"]
    assert exported["title"] == "Launched CSV import"
    assert archive.read(exported["markdown_file"]).decode().startswith("---\ntitle: Launched")
    assert archive.read(f"attachments/{item}/dashboard.png") == png
    assert alice.post("/account/export").status_code == 400  # no CSRF token


def test_export_and_import_pages_need_signing_in(client):
    for path in ("/account/export", "/account/import"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def import_file(client, content: bytes, name="rungs-export.zip", token=True):
    data = {"file": (io.BytesIO(content), name)}
    if token:
        data["csrf_token"] = client.csrf_token()
    return client.post("/account/import", data=data, content_type="multipart/form-data")


def test_import_of_an_export_from_another_person(app, make, placed):
    item = record(app, placed.pm_a1, title="Launched CSV import")
    alice = signed_in(app, placed.pm_a1)
    png = samples.image("PNG")
    upload(alice, item, "dashboard.png", png)
    export = alice.post_form("/account/export")
    archive = export.data
    export.close()
    newcomer = make.person(name="Nia New", email="nia@example.com")
    with app.app_context():
        level_id = db.session.get(User, placed.pm_a1.id).level_id
        db.session.get(User, newcomer.id).level_id = level_id
        db.session.commit()
    nia = signed_in(app, newcomer)
    form = nia.get("/account/import").get_data(as_text=True)
    assert "they are not re-created" in form and "private drafts" in form
    response = import_file(nia, archive)
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    page = text_of(response.get_data(as_text=True))
    assert "1 item imported" in page and "1 attached file came along" in page
    with app.app_context():
        mine = db.session.execute(select(Evidence).where(Evidence.owner_id == newcomer.id))
        (copy,) = mine.scalars().all()
        assert copy.title == "Launched CSV import" and copy.visibility is Visibility.PRIVATE
        (copied,) = attachments.attachments_of(copy)
        assert copied.sha256 == hashlib.sha256(png).hexdigest()
    again = text_of(import_file(nia, archive).get_data(as_text=True))
    assert "0 items imported" in again and "Already here, skipped" in again


def test_an_import_with_problems_lists_them_and_imports_nothing(app, placed):
    alice = signed_in(app, placed.pm_a1)
    document = {
        "format": "rungs-personal-data/1",
        "evidence": [
            {"title": "Fine", "occurred_on": "2026-01-01", "kind": "launch"},
            {"title": "<b>Bad date</b>", "occurred_on": "yesterday", "kind": "launch"},
            {"title": "Bad kind", "occurred_on": "2026-01-01", "kind": "party"},
        ],
    }
    response = import_file(alice, json.dumps(document).encode(), "rungs-export.json")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert_inert(html, "import problems")
    page = text_of(html)
    assert "Nothing was imported: 2 problems found" in page
    assert "Item 2 (“<b>Bad date</b>”): the date 'yesterday' is not YYYY-MM-DD." in page
    assert "Item 3 (“Bad kind”): the kind 'party' is not one Rungs knows." in page
    with app.app_context():
        assert db.session.execute(select(func.count(Evidence.id))).scalar_one() == 0


def test_an_import_without_the_form_token_is_refused(app, placed):
    alice = signed_in(app, placed.pm_a1)
    document = {"format": "rungs-personal-data/1", "evidence": []}
    response = import_file(alice, json.dumps(document).encode(), token=False)
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)


def test_an_import_larger_than_its_limit_gets_a_clear_413_page(app, make_app, placed):
    small = make_app(PERSONAL_DATA_IMPORT_MAX_BYTES=4096)
    alice = signed_in(small, placed.pm_a1)
    response = import_file(alice, b"x" * 8192)
    assert response.status_code == 413
    assert "An import can be at most" in response.get_data(as_text=True)


def test_an_import_may_be_larger_than_an_attachment(app, make_app, placed):
    roomy = make_app(MAX_CONTENT_LENGTH=4096, PERSONAL_DATA_IMPORT_MAX_BYTES=64 * 1024)
    alice = signed_in(roomy, placed.pm_a1)
    document = {"format": "rungs-personal-data/1", "evidence": [], "padding": "x" * 20_000}
    response = import_file(alice, json.dumps(document).encode())
    assert response.status_code == 200
    assert "0 items imported" in response.get_data(as_text=True)


# --- queries ------------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.count = 0

    def _record(self, *_args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


def queries_for(app, client, path) -> int:
    with QueryCounter(app) as counter:
        response = client.get(path)
        assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize(
    "path", ["/evidence/{item}", "/evidence/{item}/attachments", "/account/export"]
)
def test_pages_use_a_fixed_number_of_queries(app, placed, monkeypatch, path):
    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_EVIDENCE", 30)
    item = record(app, placed.pm_a1)
    path = path.format(item=item)
    alice = signed_in(app, placed.pm_a1)
    upload(alice, item, "first.txt", b"1")
    few = queries_for(app, alice, path)
    with app.app_context():
        owner = db.session.get(User, placed.pm_a1.id)
        evidence = evidence_service.get_evidence(item)
        for number in range(25):
            attachments.add_attachment(owner, evidence, f"more-{number}.txt", io.BytesIO(b"more"))
            evidence_service.record_evidence(owner, evidence_input(title=f"Other {number}"))
        db.session.commit()
    assert queries_for(app, alice, path) == few
    manager = signed_in(app, placed.manager_a)
    if path.startswith("/evidence/") and not path.endswith("attachments"):
        assert "more-24.txt" in manager.get(path).get_data(as_text=True)


def test_a_hostile_or_broken_import_gets_a_page_that_says_what_is_wrong(app, placed):
    alice = signed_in(app, placed.pm_a1)
    assert "One import brings at most 2,000 files, 1024 MB in all" in text_of(
        alice.get("/account/import").get_data(as_text=True)
    )
    notes = b"Notes from the launch review.\n" * 40
    shared = {
        "name": "notes.txt",
        "size": len(notes),
        "sha256": hashlib.sha256(notes).hexdigest(),
        "path": "attachments/1/notes.txt",
    }
    items = [
        {"title": f"Item {n}", "occurred_on": "2026-01-02", "kind": "launch", "attachments": []}
        for n in range(20)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        document = {
            "format": "rungs-personal-data/1",
            "evidence": [{**item, "attachments": [shared] * 10} for item in items],
        }
        archive.writestr("rungs-export.json", json.dumps(document))
        archive.writestr("attachments/1/notes.txt", notes)
    broken = {"format": "rungs-personal-data/1", "evidence": [{**items[0], "title": "A\ud800"}]}
    for upload, name, message in [
        (buffer.getvalue(), "rungs-export.zip", "199 attachments name a file in the ZIP that"),
        (json.dumps(broken).encode(), "rungs-export.json", "Item 1: title contains a control"),
    ]:
        response = import_file(alice, upload, name)
        assert response.status_code == 400
        page = text_of(response.get_data(as_text=True))
        assert "Nothing was imported: 1 problem found" in page and message in page
    with app.app_context():
        assert db.session.execute(select(func.count(Evidence.id))).scalar_one() == 0
        assert db.session.execute(select(func.count(Attachment.id))).scalar_one() == 0

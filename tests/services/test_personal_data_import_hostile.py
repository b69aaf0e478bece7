"""Hostile and broken "Your data" imports: refused whole, with a message, nothing stored."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.errors import RowErrors
from app.extensions import db
from app.models import Attachment, Evidence, User
from app.services.personal_data import importing as personal_data_import
from tests.evidence_helpers import publish_and_place

NOTES = b"Notes from the launch review.\n" * 40


def item(title: str = "Launched CSV import", **changes) -> dict:
    return {
        "title": title,
        "occurred_on": "2026-01-02",
        "kind": "launch",
        "body": "What we learned.",
        "competencies": [{"key": "skill-0-0", "name": "Skill 0.0"}],
        "links": [{"url": "https://example.com/notes", "label": "Notes"}],
        "outcome": {"metric": "Activation", "before": "31", "after": "38", "unit": "%"},
        "attachments": [],
        **changes,
    }


def export(*items: dict) -> dict:
    return {"format": "rungs-personal-data/1", "evidence": list(items)}


def listed(path: str, content: bytes = NOTES, **changes) -> dict:
    """An attachment as the export lists it."""
    return {
        "name": Path(path).name,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "path": path,
        **changes,
    }


def zip_of(document: dict, files: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("rungs-export.json", json.dumps(document))
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def amplified(items: int, per_item: int, content: bytes = NOTES) -> bytes:
    """The issue's file: every attachment of every item names the same ZIP entry."""
    shared = listed("attachments/1/notes.txt", content)
    document = export(*(item(f"Item {n}", attachments=[shared] * per_item) for n in range(items)))
    return zip_of(document, {"attachments/1/notes.txt": content})


def patched(archive: bytes, name: str, *, size: int | None = None, method: int | None = None):
    """The ZIP with entry `name`'s headers (local and central) claiming another size or
    compression method: what a crafted file can say about itself."""
    data = bytearray(archive)
    encoded = name.encode()
    # signature, offset of the name length, offset of the name, of the method, of the size
    for signature, name_at, start, method_at, size_at in (
        (b"PK\x03\x04", 26, 30, 8, 22),
        (b"PK\x01\x02", 28, 46, 10, 24),
    ):
        at = data.find(signature)
        while at != -1:
            length = struct.unpack_from("<H", data, at + name_at)[0]
            if data[at + start : at + start + length] == encoded:
                if size is not None:
                    struct.pack_into("<I", data, at + size_at, size)
                if method is not None:
                    struct.pack_into("<H", data, at + method_at, method)
            at = data.find(signature, at + 4)
    return bytes(data)


@pytest.fixture
def pm(app, org):
    publish_and_place(app, [org.pm_a1])
    return org.pm_a1


@pytest.fixture
def stored_files(app):
    """The files under RUNGS_DATA_DIR/attachments, to show a refusal left none behind."""
    root = Path(app.config["RUNGS_DATA_DIR"]) / "attachments"
    return lambda: sorted(path for path in root.rglob("*") if path.is_file())


def refused(person, upload: bytes | dict) -> list[str]:
    """The problems of an import that must be refused, having checked nothing was written."""
    actor = db.session.get(User, person.id)
    with pytest.raises(RowErrors) as error:
        if isinstance(upload, dict):
            personal_data_import.import_items(actor, upload)
        else:
            personal_data_import.import_upload(actor, io.BytesIO(upload))
    db.session.rollback()  # what the view does
    assert db.session.execute(select(func.count(Evidence.id))).scalar_one() == 0
    assert db.session.execute(select(func.count(Attachment.id))).scalar_one() == 0
    return error.value.errors


def imported(person, upload: bytes):
    report = personal_data_import.import_upload(db.session.get(User, person.id), io.BytesIO(upload))
    db.session.commit()
    return report


# --- room on disk -------------------------------------------------------------------------------


def test_attachments_naming_one_entry_many_times_are_refused_whole(pm, ctx, stored_files):
    before = stored_files()
    upload = amplified(items=20, per_item=10)
    assert len(upload) < 3_000  # the file: about 2 kB asking for 200 stored copies
    (problem,) = refused(pm, upload)
    assert problem.startswith("199 attachments name a file in the ZIP that another attachment")
    assert "attachments/1/notes.txt" in problem and "Export the data again" in problem
    assert stored_files() == before


def test_one_import_may_store_so_many_bytes_counting_every_file(
    app, pm, ctx, stored_files, monkeypatch
):
    before = stored_files()
    files = {f"attachments/{n}/notes.txt": NOTES for n in range(3)}
    document = export(item("A", attachments=[listed(path) for path in files]))
    monkeypatch.setitem(app.config, "PERSONAL_DATA_IMPORT_MAX_STORED_BYTES", 3 * len(NOTES) - 1)
    (problem,) = refused(pm, zip_of(document, files))
    assert "This import would store 3 attachments" in problem
    assert "at most 2,000 files" in problem and "PERSONAL_DATA_IMPORT_MAX_STORED_BYTES" in problem
    assert stored_files() == before
    monkeypatch.setitem(app.config, "PERSONAL_DATA_IMPORT_MAX_STORED_BYTES", 3 * len(NOTES))
    assert imported(pm, zip_of(document, files)).attachments == 3  # the limit itself is allowed
    added = set(stored_files()) - set(before)
    assert sum(path.stat().st_size for path in added) == 3 * len(NOTES)


def test_one_import_may_store_so_many_files(app, pm, ctx, stored_files, monkeypatch):
    before = stored_files()
    files = {f"attachments/{n}/notes.txt": NOTES for n in range(4)}
    document = export(
        item("A", attachments=[listed(path) for path in list(files)[:2]]),
        item("B", attachments=[listed(path) for path in list(files)[2:]]),
    )
    monkeypatch.setitem(app.config, "PERSONAL_DATA_IMPORT_MAX_FILES", 3)
    (problem,) = refused(pm, zip_of(document, files))
    assert "would store 4 attachments" in problem and "at most 3 files" in problem
    assert stored_files() == before


def test_a_file_that_fails_late_leaves_no_file_behind(pm, ctx, stored_files):
    """The first item's file is fine and would be stored first; the second's is not."""
    before = stored_files()
    files = {"attachments/1/notes.txt": NOTES, "attachments/2/page.txt": b"\xff\xfe not text"}
    document = export(
        item("A", attachments=[listed("attachments/1/notes.txt")]),
        item("B", attachments=[listed("attachments/2/page.txt", files["attachments/2/page.txt"])]),
    )
    (problem,) = refused(pm, zip_of(document, files))
    assert problem.startswith("Item 2 (“B”):")
    assert stored_files() == before


# --- what each entry says about itself ----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"size": len(NOTES) + 1}, "is 1,200 bytes in the ZIP but the export says 1,201"),
        ({"size": "1200"}, "attachment 1's size must be a whole number of bytes"),
        ({"size": None}, "attachment 1's size must be a whole number of bytes"),
        ({"sha256": None}, "attachment 1 (attachments/1/notes.txt) has no sha256 checksum"),
        ({"sha256": "0" * 64}, "not the file that was exported (size or checksum differs)"),
        ({"size": 11 * 1024 * 1024}, "attachment 1 is 11 MB; files can be at most 10 MB"),
    ],
)
def test_each_entry_must_have_the_size_and_checksum_it_was_exported_with(pm, ctx, changes, message):
    document = export(item(attachments=[listed("attachments/1/notes.txt", **changes)]))
    (problem,) = refused(pm, zip_of(document, {"attachments/1/notes.txt": NOTES}))
    assert problem.startswith("Item 1"), problem
    assert message in problem


def test_an_entry_larger_than_an_attachment_is_refused_unread(pm, ctx):
    bomb = b"a" * (10 * 1024 * 1024 + 1)  # deflates to about 10 kB
    document = export(item(attachments=[listed("attachments/1/notes.txt", bomb)]))
    upload = zip_of(document, {"attachments/1/notes.txt": bomb})
    assert len(upload) < 20_000
    (problem,) = refused(pm, upload)
    assert "files can be at most 10 MB" in problem


def test_an_entry_that_lies_about_its_size_is_read_no_further(pm, ctx):
    """The directory claims 1,200 bytes; the entry unpacks to 50 MB. Reading stops at the claim."""
    bomb = b"a" * (50 * 1024 * 1024)
    document = export(item(attachments=[listed("attachments/1/notes.txt", bomb, size=len(NOTES))]))
    upload = patched(
        zip_of(document, {"attachments/1/notes.txt": bomb}),
        "attachments/1/notes.txt",
        size=len(NOTES),
    )
    del bomb
    tracemalloc.start()
    try:
        (problem,) = refused(pm, upload)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "attachments/1/notes.txt is missing from the ZIP or damaged" in problem
    assert peak < 5 * 1024 * 1024


def scrambled(archive: bytes, name: str) -> bytes:
    """The ZIP with entry `name`'s compressed bytes overwritten (headers intact)."""
    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo(name)
    extra = struct.unpack_from("<H", archive, info.header_offset + 28)[0]
    start = info.header_offset + 30 + len(name.encode()) + extra
    return archive[:start] + b"\xff" * info.compress_size + archive[start + info.compress_size :]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda zip_: scrambled(zip_, "attachments/1/notes.txt"), id="deflate"),
        pytest.param(lambda zip_: patched(zip_, "attachments/1/notes.txt", method=99), id="method"),
        pytest.param(lambda zip_: patched(zip_, "attachments/1/notes.txt", method=0), id="crc"),
    ],
)
def test_a_damaged_entry_is_a_clear_refusal(pm, ctx, damage):
    document = export(item(attachments=[listed("attachments/1/notes.txt")]))
    upload = damage(zip_of(document, {"attachments/1/notes.txt": NOTES}))
    (problem,) = refused(pm, upload)
    assert "attachments/1/notes.txt is missing from the ZIP or damaged" in problem


# --- bad text and wrong shapes: a 400 naming the item and field, never a 500 ---------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "Launch\x00ed"}, "Item 2: title contains a control character (U+0000 at"),
        ({"body": "a\x1b[31mred"}, "Item 2 (“Second”): body contains a control character (U+001B"),
        ({"body": "\ud800"}, "body contains a control character (U+D800 at character 1)"),
        (
            {"links": [{"url": "https://example.com"}, {"url": "https://e.com/\x00"}]},
            "link 2's url contains a control character (U+0000",
        ),
        ({"links": [{"url": "https://e.com", "label": "\x07"}]}, "link 1's label contains a"),
        ({"outcome": {"metric": "NPS\x00"}}, "the outcome's metric contains a control character"),
        ({"competencies": ["skill\x00"]}, "competency 1's key contains a control character"),
        ({"competencies": [{"key": "k", "name": "\x00"}]}, "competency 1's name contains a"),
        ({"links": [{"url": "http://[::1"}]}, "a link is not a valid web address (Invalid IPv6"),
        ({"title": 5}, "Item 2: title must be text."),
        ({"occurred_on": 20260102}, "occurred_on must be text."),
        ({"kind": ["launch"]}, "the kind ['launch'] is not one Rungs knows."),
        ({"kind": "x" * 500}, "the kind 'xxxxxxxx"),
        ({"outcome": ["NPS"]}, "the outcome or the links are not in the export's format."),
        ({"links": {"url": "https://e.com"}}, "the outcome or the links are not in the export"),
        ({"links": [7]}, "link 1 is not in the export's format."),
        ({"competencies": {"key": "k"}}, "competencies must be a list."),
        ({"competencies": [7]}, "competency 1 is not in the export's format."),
        ({"outcome": {"metric": "NPS", "before": "1" * 61, "after": "2"}}, "longer than 60"),
        ({"attachments": {"path": "a.txt"}}, "attachments must be a list."),
    ],
)
def test_bad_values_are_refused_naming_the_item_and_field(pm, ctx, changes, message):
    document = export(item("First"), {**item("Second"), **changes})
    problems = refused(pm, document)
    assert len(problems) == 1 and message in problems[0], problems
    assert problems[0].startswith("Item 2")


def test_an_item_that_is_not_a_mapping_is_named(pm, ctx):
    assert refused(pm, export(item(), ["a", "list"])) == ["Item 2: is not an object."]
    assert "no list of evidence" in refused(pm, {**export(), "evidence": {"a": 1}})[0]


def test_bad_attachment_entries_in_a_zip_are_named(pm, ctx):
    entries = [7, {"path": 7}, {"path": "a\x00.txt", "size": 1, "sha256": "0" * 64}]
    for number, entry in enumerate(entries):
        document = export(item(f"Item {number}", attachments=[entry]))
        (problem,) = refused(pm, zip_of(document, {}))
        assert problem.startswith(f"Item 1 (“Item {number}”): attachment 1"), problem


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (b'{"format": "rungs-personal-data/1", "evidence": [', "not valid JSON (line 1"),
        (b'{"format": ' + b"1" * 5000 + b"}", "a number too long"),
        (b'{"format": "\\ud800"}', "found '\\ud800'"),
        (b"PK\x03\x04 not really a zip", "The ZIP file is damaged; export it again."),
        (b"\x00\x01\x02\xff", "neither a ZIP nor UTF-8 JSON"),
    ],
)
def test_a_file_that_is_not_an_export_is_a_clear_refusal(pm, ctx, upload, message):
    (problem,) = refused(pm, upload)
    assert message in problem


def test_a_lone_surrogate_in_an_uploaded_json_names_its_item(pm, ctx):
    text = json.dumps(export(item("Fine"), item("Bad \ud800 title")), ensure_ascii=True)
    assert "\\ud800" in text  # what the file held: the escape, not the character
    (problem,) = refused(pm, text.encode())
    assert problem.startswith("Item 2: title contains a control character (U+D800 at character 5)")


def test_an_export_json_that_unpacks_past_the_limit_is_refused_unread(app, pm, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "PERSONAL_DATA_IMPORT_MAX_BYTES", 64 * 1024)
    padded = {**export(item()), "padding": " " * (64 * 1024)}
    upload = zip_of(padded, {})
    assert len(upload) < 2_000
    assert refused(pm, upload) == ["rungs-export.json is larger than 0.0625 MB."]
    lying = patched(upload, "rungs-export.json", size=1_000)
    assert refused(pm, lying) == ["rungs-export.json is missing from the ZIP or damaged."]


HOSTILE_VALUES = [None, 7, 2.5, True, -1, 10**30, [], ["x"], {}, {"a": 1}, "", "\x00", "\ud800"]
HOSTILE_VALUES += ["x" * 100_000, "http://[::1", "9999-12-31", "../../etc/passwd"]


def places_in_an_item():
    """Every value of an exported item, as a path of keys and list indexes."""
    full = item(attachments=[listed("attachments/1/notes.txt")])
    for key, value in full.items():
        yield (key,)
        if isinstance(value, dict):
            yield from ((key, inner) for inner in value)
        if isinstance(value, list):
            yield (key, 0)
            if value and isinstance(value[0], dict):
                yield from ((key, 0, inner) for inner in value[0])


def test_any_value_anywhere_in_an_item_is_imported_or_refused_never_an_error(pm, ctx):
    """No value in any place may raise anything but RowErrors or write half an import."""
    outcomes = {"imported": 0, "refused": 0}
    for place in places_in_an_item():
        for value in HOSTILE_VALUES:
            document = export(item(f"{place} {value!r}"[:150]))
            document["evidence"][0]["attachments"] = [listed("attachments/1/notes.txt")]
            target = document["evidence"][0]
            for step in place[:-1]:
                target = target[step]
            target[place[-1]] = value
            upload = zip_of(document, {"attachments/1/notes.txt": NOTES})
            actor = db.session.get(User, pm.id)
            try:
                with db.session.begin_nested():
                    personal_data_import.import_upload(actor, io.BytesIO(upload))
                    db.session.flush()
                    raise _Undo
            except _Undo:
                outcomes["imported"] += 1
            except RowErrors:
                outcomes["refused"] += 1
            db.session.rollback()
    assert outcomes["refused"] > 100 and outcomes["imported"] > 10, outcomes


class _Undo(Exception):
    """Leaves the savepoint after a successful import, so the next one starts empty."""

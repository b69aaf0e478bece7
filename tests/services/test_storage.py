"""The file storage (app/services/storage.py): the same cases against the data folder and the
database, with small chunks so that a few kilobytes span several of them."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import StoredFile, StoredFileChunk
from app.services import storage

CHUNK = 1000
CONTENT = os.urandom(3 * CHUNK + 17)  # three whole chunks and a piece


@pytest.fixture(params=storage.BACKENDS)
def backend(request, app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "FILE_STORAGE", request.param)
    monkeypatch.setitem(app.config, "RUNGS_DATA_DIR", str(tmp_path))  # an empty data folder
    monkeypatch.setattr(storage, "CHUNK_BYTES", CHUNK)
    with app.app_context():
        yield request.param
        db.session.rollback()


class Trickle(io.RawIOBase):
    """A stream that hands out a few bytes per read, as a socket does."""

    def __init__(self, content: bytes):
        self.content, self.at = content, 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        count = min(len(target), 333, len(self.content) - self.at)
        target[:count] = self.content[self.at : self.at + count]
        self.at += count
        return count


def chunk_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StoredFileChunk))


def test_put_then_read_open_size_and_exists(backend):
    assert storage.put("jobs/a.bin", CONTENT) == len(CONTENT)
    db.session.commit()
    assert storage.read("jobs/a.bin") == CONTENT
    with storage.open("jobs/a.bin") as file:
        assert file.size == len(CONTENT)
        assert file.read(10) == CONTENT[:10]
        assert file.read() == CONTENT[10:]
        assert file.read() == b""
    assert storage.size("jobs/a.bin") == len(CONTENT) and storage.exists("jobs/a.bin")
    assert chunk_rows() == (4 if backend == storage.DATABASE else 0)


def test_a_stream_is_stored_whatever_its_reads_return_and_an_empty_file_too(backend):
    storage.put("packets/1/committee-x.pdf", io.BufferedReader(Trickle(CONTENT)))
    storage.put("packets/1/empty.pdf", b"")
    storage.put("packets/1/exact.pdf", CONTENT[: 2 * CHUNK])
    db.session.commit()
    assert storage.read("packets/1/committee-x.pdf") == CONTENT
    assert storage.read("packets/1/empty.pdf") == b"" and storage.size("packets/1/empty.pdf") == 0
    assert storage.read("packets/1/exact.pdf") == CONTENT[: 2 * CHUNK]


def test_put_replaces_what_was_stored_under_the_key(backend):
    storage.put("pdf-cache/a.pdf", CONTENT)
    storage.put("pdf-cache/a.pdf", b"shorter")
    db.session.commit()
    assert storage.read("pdf-cache/a.pdf") == b"shorter"
    assert list(storage.listing("pdf-cache/")) == [("pdf-cache/a.pdf", 7)]


def test_a_missing_key_is_missing_everywhere(backend):
    with pytest.raises(storage.MissingFileError):
        storage.open("attachments/ab/nothing")
    with pytest.raises(FileNotFoundError):  # MissingFileError is one
        storage.read("attachments/ab/nothing")
    assert storage.size("attachments/ab/nothing") is None
    assert not storage.exists("attachments/ab/nothing")
    storage.delete("attachments/ab/nothing")  # nothing to delete: no error
    db.session.commit()


def test_delete_takes_effect_with_the_commit(backend):
    storage.put("jobs/gone.zip", CONTENT)
    storage.put("jobs/kept.zip", b"kept")
    db.session.commit()
    storage.delete("jobs/gone.zip")
    db.session.rollback()
    assert storage.read("jobs/gone.zip") == CONTENT  # the rollback kept it
    storage.delete_many(["jobs/gone.zip"])
    db.session.commit()
    assert not storage.exists("jobs/gone.zip") and storage.read("jobs/kept.zip") == b"kept"
    assert chunk_rows() == (1 if backend == storage.DATABASE else 0)


def test_a_rolled_back_put_leaves_nothing(backend):
    storage.put("jobs/rolled-back.zip", CONTENT)
    db.session.rollback()
    assert not storage.exists("jobs/rolled-back.zip")
    assert list(storage.listing()) == []


def test_a_size_limit_refuses_and_stores_nothing(backend):
    storage.put("attachments/ab/fits", CONTENT, limit=len(CONTENT))
    with pytest.raises(storage.TooLargeError):
        storage.put("attachments/ab/big", io.BufferedReader(Trickle(CONTENT)), limit=2 * CHUNK)
    db.session.commit()
    assert storage.exists("attachments/ab/fits") and not storage.exists("attachments/ab/big")
    assert [key for key, _size in storage.listing()] == ["attachments/ab/fits"]
    if backend == storage.DATABASE:
        assert chunk_rows() == 4  # the refused file's first chunks were taken back


def test_keys_and_present_list_what_is_stored(backend):
    for key in ("packets/2/b.pdf", "packets/10/a.pdf", "jobs/c.txt"):
        storage.put(key, key.encode())
    db.session.commit()
    assert list(storage.listing("packets/")) == [("packets/10/a.pdf", 16), ("packets/2/b.pdf", 15)]
    assert [key for key, _size in storage.listing()] == [
        "jobs/c.txt",
        "packets/10/a.pdf",
        "packets/2/b.pdf",
    ]
    assert storage.present(["jobs/c.txt", "jobs/none.txt"]) == {"jobs/c.txt"}


def test_put_file_takes_a_local_file_in(backend, tmp_path):
    path = storage.local_path("jobs/result.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(CONTENT)
    storage.put_file("jobs/result.csv", path)
    db.session.commit()
    assert storage.read("jobs/result.csv") == CONTENT
    assert path.exists() == (backend == storage.LOCAL)  # moved into the database otherwise


@pytest.mark.parametrize(
    "key",
    ["../rungs.db", "attachments/../../etc/passwd", "/etc/passwd", "backups/x.zip", "jobs/.part-1",
     "jobs", "jobs/a b", "jobs\\a", "jobs//a"],
)  # fmt: skip
def test_keys_stay_inside_the_storage_folders(backend, key):
    with pytest.raises(ValueError, match="not a storage key"):
        storage.put(key, b"x")
    with pytest.raises(ValueError, match="not a storage key"):
        storage.open(key)


def test_a_download_streams_after_its_request_a_chunk_at_a_time(app, monkeypatch):
    """The database reader keeps one chunk, and reads without an app context (the response is
    sent after the request's context is gone)."""
    monkeypatch.setitem(app.config, "FILE_STORAGE", storage.DATABASE)
    monkeypatch.setattr(storage, "CHUNK_BYTES", CHUNK)
    with app.app_context():
        storage.put("jobs/streamed.zip", CONTENT)
        db.session.commit()
        file = storage.open("jobs/streamed.zip")
        row = db.session.get(StoredFile, "jobs/streamed.zip")
        assert (row.size, row.sha256) == (len(CONTENT), hashlib.sha256(CONTENT).hexdigest())
    pieces = []
    with file:
        while piece := file.read(400):
            pieces.append(piece)
            assert len(file._buffer) <= CHUNK
    assert b"".join(pieces) == CONTENT


def test_the_setting_is_checked(app):
    from config import ConfigError, load

    assert load({}, {"ENV": "testing"})["FILE_STORAGE"] == "local"
    assert load({"RUNGS_FILE_STORAGE": "Database"}, {"ENV": "testing"})["FILE_STORAGE"] == (
        "database"
    )
    with pytest.raises(ConfigError, match="RUNGS_FILE_STORAGE must be one of local, database"):
        load({"RUNGS_FILE_STORAGE": "s3"}, {"ENV": "testing"})


def test_files_of_the_data_folder_are_copied_into_the_database(app, monkeypatch, tmp_path):
    """`flask files copy-into-database`: what was stored locally reads the same from the
    database once the setting changes; a second run copies nothing."""
    monkeypatch.setitem(app.config, "RUNGS_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(storage, "CHUNK_BYTES", CHUNK)
    with app.app_context():
        storage.put("attachments/ab/" + "ab" * 32, CONTENT)
        storage.put("pdf-cache/framework-v1-0123.pdf", b"%PDF-")
        db.session.commit()
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / ".part-x").write_bytes(b"half written")  # not a stored file
    done = app.test_cli_runner().invoke(args=["files", "copy-into-database"])
    assert done.exit_code == 0, done.output
    assert "Copied 2 files into the database (0 were there already)" in done.output
    again = app.test_cli_runner().invoke(args=["files", "copy-into-database"])
    assert "Copied 0 files into the database (2 were there already)" in again.output
    monkeypatch.setitem(app.config, "FILE_STORAGE", storage.DATABASE)
    with app.app_context():
        assert storage.read("attachments/ab/" + "ab" * 32) == CONTENT
        assert [key for key, _size in storage.listing()] == [
            "attachments/ab/" + "ab" * 32,
            "pdf-cache/framework-v1-0123.pdf",
        ]

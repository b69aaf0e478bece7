"""Where Rungs keeps files (attachments, packets, the PDF cache, job results), by a setting.

A file is named by its key: the path it has under RUNGS_DATA_DIR with the local backend
("attachments/ab/ab12…", "packets/7/committee-….pdf", "pdf-cache/….pdf", "jobs/….zip"). The
backend is RUNGS_FILE_STORAGE:

- `local` (the default): the file at RUNGS_DATA_DIR/<key>, the layout Rungs always had; written
  to a temporary name beside it, then renamed, so that a reader never sees half a file.
- `database`: the file in the database itself (`stored_files`, its content in
  `stored_file_chunks` of CHUNK_BYTES each), so that every web server and worker that reaches
  the database reaches the files, whatever their RUNGS_DATA_DIR.

Both belong to the caller's transaction, so a row and its file agree whatever happens: a file
`put` is gone again if the transaction rolls back, and a `delete` takes effect when it commits
(local: the file is written at once and unlinked after a rollback; deleted after the commit).
Reading and writing go chunk by chunk: no file is held in memory whole.

    storage.put("jobs/x.zip", stream)              # or bytes; `limit` refuses a larger one
    with storage.open("jobs/x.zip") as file: ...   # a binary file object, with .size
    storage.size(key), storage.exists(key), storage.present(keys), storage.delete(key)
    storage.listing("attachments/")                # (key, size) pairs, by key
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import StoredFile, StoredFileChunk
from app.models.base import utcnow

LOCAL = "local"
DATABASE = "database"
BACKENDS = (LOCAL, DATABASE)
# The folders of RUNGS_DATA_DIR (the keys' first part) that hold files.
FOLDERS = ("attachments", "packets", "pdf-cache", "jobs")
CHUNK_BYTES = 1024 * 1024
KEY = re.compile(r"(?:attachments|packets|pdf-cache|jobs)(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)+")
WRITTEN = "rungs.storage.written"  # session.info: local files to unlink if the transaction fails
DOOMED = "rungs.storage.doomed"  # session.info: local files to unlink once the transaction commits
log = logging.getLogger(__name__)

_files = StoredFile.__table__
_chunks = StoredFileChunk.__table__


class MissingFileError(FileNotFoundError):
    """No file is stored under this key."""


class TooLargeError(ValueError):
    """The content is larger than the limit `put` was given; nothing was stored."""


def check_key(key: str) -> str:
    """The key, or ValueError unless it is a plain relative path in one of FOLDERS."""
    if not isinstance(key, str) or not KEY.fullmatch(key) or len(key) > 300:
        raise ValueError(f"not a storage key: {key!r}")
    return key


def backend() -> str:
    return current_app.config["FILE_STORAGE"]


def _in_database() -> bool:
    return backend() == DATABASE


# --- the interface ------------------------------------------------------------------------------


def put(key: str, content: bytes | BinaryIO, *, limit: int | None = None) -> int:
    """Store `content` (bytes or a binary stream, read in chunks) under `key`, replacing what was
    there; its size. TooLargeError, storing nothing, past `limit` bytes."""
    check_key(key)
    stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    if _in_database():
        return _database_put(key, stream, limit)
    return _local_put(key, stream, limit)


def put_file(key: str, path: Path) -> None:
    """Store the local file at `path` under `key` and let go of `path` (a job's output, written
    where `local_path(key)` said). Local: the file is already in its place, or is moved there."""
    check_key(key)
    if not _in_database():
        target = local_path(key)
        if Path(path).resolve() != target.resolve():
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(path, target)
        return
    with Path(path).open("rb") as file:
        _database_put(key, file, None)
    Path(path).unlink(missing_ok=True)


def open(key: str) -> BinaryIO:
    """The stored file, for reading (a file object with `size`); MissingFileError if none."""
    check_key(key)
    if _in_database():
        size = _database_size(key)
        if size is None:
            raise MissingFileError(key)
        return _DatabaseReader(db.engine, key, size)
    try:
        return _LocalReader(local_path(key))
    except FileNotFoundError:
        raise MissingFileError(key) from None


def read(key: str) -> bytes:
    """The whole content (for small files: the caller holds it in memory)."""
    with open(key) as file:
        return file.read()


def size(key: str) -> int | None:
    """The file's size in bytes; None when nothing is stored under `key`."""
    check_key(key)
    if _in_database():
        return _database_size(key)
    try:
        return local_path(key).stat().st_size if local_path(key).is_file() else None
    except OSError:
        return None


def exists(key: str) -> bool:
    return size(key) is not None


def present(keys: Iterable[str]) -> set[str]:
    """Which of these keys have a file (one query for the database backend)."""
    wanted = sorted({check_key(key) for key in keys})
    if not _in_database():
        return {key for key in wanted if local_path(key).is_file()}
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        query = sa.select(_files.c.key).where(_files.c.key.in_(wanted[start : start + 500]))
        found.update(db.session.execute(query).scalars())
    return found


def delete(key: str) -> None:
    """Delete the file once the transaction commits (nothing happens if none is stored)."""
    delete_many([key])


def delete_many(keys: Iterable[str]) -> None:
    names = [check_key(key) for key in keys]
    if not names:
        return
    if _in_database():
        for start in range(0, len(names), 500):
            batch = names[start : start + 500]
            db.session.execute(sa.delete(_chunks).where(_chunks.c.key.in_(batch)))
            db.session.execute(sa.delete(_files).where(_files.c.key.in_(batch)))
        return
    _session().info.setdefault(DOOMED, []).extend(local_path(key) for key in names)


def listing(prefix: str = "") -> Iterator[tuple[str, int]]:
    """(key, size) of every stored file whose key starts with `prefix`, by key."""
    if _in_database():
        query = sa.select(_files.c.key, _files.c.size).order_by(_files.c.key)
        if prefix:
            query = query.where(_files.c.key.startswith(prefix, autoescape=True))
        for key, size in db.session.execute(query):
            yield key, size
        return
    root = data_dir()
    found = []
    for folder in FOLDERS:
        for path in (root / folder).rglob("*"):
            key = path.relative_to(root).as_posix()
            if key.startswith(prefix) and KEY.fullmatch(key) and path.is_file():
                found.append((key, path.stat().st_size))
    yield from sorted(found)


# --- local folders ------------------------------------------------------------------------------


def data_dir() -> Path:
    return Path(current_app.config["RUNGS_DATA_DIR"])


def local_path(key: str) -> Path:
    """Where the local backend keeps `key` (and where a job writes its output first)."""
    return data_dir() / check_key(key)


class _LocalReader(io.FileIO):
    def __init__(self, path: Path):
        super().__init__(path, "rb")
        self.size = os.fstat(self.fileno()).st_size


def _local_put(key: str, stream: BinaryIO, limit: int | None) -> int:
    target = local_path(key)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    written = 0
    try:
        with os.fdopen(handle, "wb") as file:
            while chunk := stream.read(CHUNK_BYTES):
                written += len(chunk)
                _check_limit(written, limit)
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _session().info.setdefault(WRITTEN, []).append(target)
    return written


def _session() -> Session:
    """The session, in a transaction (begun without a connection yet, so no database lock):
    its commit or rollback must come for the local files it wrote or doomed."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    return session


def _check_limit(written: int, limit: int | None) -> None:
    if limit is not None and written > limit:
        raise TooLargeError(f"larger than {limit:,} bytes")


def _unlink(paths) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:  # a stray file is better than a failed request
            log.warning("could not delete stored file %s: %s", path, error)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(WRITTEN, None)
    _unlink(session.info.pop(DOOMED, ()))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous) -> None:
    if session.in_transaction():
        return  # a savepoint rolled back; the outer transaction decides
    session.info.pop(DOOMED, None)
    _unlink(session.info.pop(WRITTEN, ()))


# --- the database -------------------------------------------------------------------------------


def _database_put(key: str, stream: BinaryIO, limit: int | None) -> int:
    """Rows in the session's transaction (a connection of its own would wait on SQLite's write
    lock, which the session may hold). Keys name their content or are random: when another
    transaction stores the same key meanwhile, its file stands."""
    session = db.session
    digest, written, number = hashlib.sha256(), 0, 0
    try:
        with session.begin_nested():
            session.execute(sa.delete(_chunks).where(_chunks.c.key == key))
            session.execute(sa.delete(_files).where(_files.c.key == key))
            session.execute(
                sa.insert(_files).values(key=key, size=0, sha256="", created_at=utcnow())
            )
            while True:
                chunk = stream.read(CHUNK_BYTES)
                if not chunk and number > 0:
                    break
                written += len(chunk)
                _check_limit(written, limit)
                digest.update(chunk)
                session.execute(
                    sa.insert(_chunks).values(key=key, number=number, content=bytes(chunk))
                )
                number += 1
                if not chunk:
                    break
            session.execute(
                sa.update(_files)
                .where(_files.c.key == key)
                .values(size=written, sha256=digest.hexdigest())
            )
    except IntegrityError:
        log.info("stored file %s was stored by another transaction meanwhile", key)
    return written


def _database_size(key: str) -> int | None:
    return _scalar(db.engine, sa.select(_files.c.size).where(_files.c.key == key))


def _scalar(engine: sa.Engine, query):
    """One value, read in the session's transaction when one is open in this thread (it may
    hold SQLite's write lock, or the file may not be committed yet); otherwise, as when a
    download is streamed after its request, in a short transaction of its own."""
    return _reading(engine, lambda connection: connection.execute(query).scalar())


def _reading(engine: sa.Engine, read):
    if has_app_context() and db.session().in_transaction() and db.engine is engine:
        return read(db.session.connection())
    with engine.connect() as connection:
        return read(connection)


# psycopg sends bytea as hex text unless asked for binary: measured here, a 1 MB chunk took
# 14-18 ms as text and 4-8 ms in binary.
_CHUNK_SQL = "SELECT content FROM stored_file_chunks WHERE key = %s AND number = %s"


def _chunk(connection: sa.Connection, key: str, number: int) -> bytes | None:
    if connection.dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor(binary=True) as cursor:
            row = cursor.execute(_CHUNK_SQL, (key, number)).fetchone()
        return None if row is None else row[0]
    query = sa.select(_chunks.c.content).where(_chunks.c.key == key, _chunks.c.number == number)
    return connection.execute(query).scalar()


class _DatabaseReader(io.RawIOBase):
    """A stored file read one chunk (one row) at a time (as `_scalar` reads)."""

    def __init__(self, engine: sa.Engine, key: str, size: int):
        super().__init__()
        self.engine, self.key, self.size = engine, key, size
        self._number, self._buffer, self._offset, self._served = 0, b"", 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if self._offset >= len(self._buffer):
            if self._served >= self.size:
                return 0
            self._buffer, self._offset = self._fetch(self._number), 0
            self._number += 1
        count = min(len(target), len(self._buffer) - self._offset)
        target[:count] = self._buffer[self._offset : self._offset + count]
        self._offset += count
        self._served += count
        return count

    def _fetch(self, number: int) -> bytes:
        content = _reading(self.engine, lambda connection: _chunk(connection, self.key, number))
        if content is None:
            raise OSError(f"the stored file {self.key} is incomplete (chunk {number} is missing)")
        return bytes(content)


# --- switching backends ---------------------------------------------------------------------


def copy_local_into_database(on_file=None) -> tuple[int, int]:
    """Put every file of the data folder into the database, whatever the setting (run before
    switching to RUNGS_FILE_STORAGE=database); one commit per file. Files the database has
    already are skipped, so it can run again after an interruption. The local files are left
    in place. (copied, skipped)."""
    copied = skipped = 0
    root = data_dir()
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            key = path.relative_to(root).as_posix()
            if not KEY.fullmatch(key) or not path.is_file():
                continue
            if _database_size(key) is not None:
                skipped += 1
                continue
            with path.open("rb") as file:
                _database_put(key, file, None)
            db.session.commit()
            copied += 1
            if on_file:
                on_file(key)
    return copied, skipped


# --- backups: a database's stored files, read on a connection -----------------------------------


def stored_in(connection: sa.Connection) -> dict[str, tuple[int, str]]:
    """{key: (size, sha256)} of the files a database holds (none before revision 0011)."""
    if not sa.inspect(connection).has_table(_files.name):
        return {}
    rows = connection.execute(sa.select(_files.c.key, _files.c.size, _files.c.sha256))
    return {key: (size, sha256) for key, size, sha256 in rows}


def digest_in(connection: sa.Connection, key: str) -> tuple[int, str]:
    """(size, sha256) of a stored file's content as its chunks hold it, read one at a time."""
    digest, size, number = hashlib.sha256(), 0, 0
    while True:
        content = _chunk(connection, key, number)
        if content is None:
            return size, digest.hexdigest()
        digest.update(content)
        size += len(content)
        number += 1

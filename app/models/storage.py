"""Files kept in the database itself (RUNGS_FILE_STORAGE=database): one row per file, its
content in chunks of at most app.services.storage.CHUNK_BYTES, so that no file is ever held in
memory whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class StoredFile(Base):
    """A file under its storage key (the path it would have under RUNGS_DATA_DIR)."""

    __tablename__ = "stored_files"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StoredFileChunk(Base):
    """One piece of a stored file's content, in order of `number` (0, 1, …)."""

    __tablename__ = "stored_file_chunks"

    key: Mapped[str] = mapped_column(
        ForeignKey("stored_files.key", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)

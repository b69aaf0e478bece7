"""Run in child processes by test_backups: keep writing evidence with attachments (and removing
some) until told to stop, so that a backup is taken while people write."""

from __future__ import annotations

import io
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import create_app
from app.extensions import db
from app.models import Attachment, Evidence, User
from app.services import evidence as evidence_service
from app.services.evidence import attachments
from tests.evidence_helpers import evidence_input

LIMIT_SECONDS = 60


def keep_writing(database_uri: str, data_dir: str, owner_id: int, stop: str, tag: str) -> int:
    """Write until the file `stop` exists; the number of write transactions committed."""
    settings = {
        "ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "RUNGS_DATA_DIR": data_dir,
    }
    app = create_app(settings, environ={})
    written, deadline = 0, time.monotonic() + LIMIT_SECONDS
    with app.app_context():
        while not Path(stop).exists() and time.monotonic() < deadline:
            owner = db.session.get(User, owner_id)
            item = evidence_service.record_evidence(owner, evidence_input(title=f"{tag} {written}"))
            content = f"{tag} note {written}\n".encode() * 50
            attachments.add_attachment(owner, item, "note.txt", io.BytesIO(content))
            db.session.commit()
            if written % 3 == 2:  # take one away again: its file goes after the commit
                oldest = db.session.execute(
                    select(Attachment)
                    .join(Attachment.evidence)
                    .options(joinedload(Attachment.evidence))
                    .where(Evidence.title.startswith(f"{tag} "))
                    .order_by(Attachment.id)
                    .limit(1)
                ).scalar_one()
                attachments.remove_attachment(owner, oldest)
                db.session.commit()
            written += 1
        db.session.remove()
        db.engine.dispose()
    return written

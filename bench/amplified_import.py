"""Issue 10: how many bytes one small "Your data" upload makes Rungs store. Not a test.

    .venv/bin/python bench/amplified_import.py [--items N] [--per-item N] [--entry-kib N]
                                               [--distinct]

It builds the hostile export of the issue: one ZIP entry (a text file of one repeated letter, which
deflate shrinks about a thousandfold) and N items whose attachments all name that same entry
(with --distinct, each attachment gets an entry of its own: compression alone, no sharing).
It imports it as a placed person, in a scratch RUNGS_DATA_DIR with its own SQLite database built by
the real migrations (removed at the end; ./instance is never touched), and prints the upload's size,
the outcome and the bytes left under RUNGS_DATA_DIR/attachments.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shlex
import sys
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.evidence_helpers publishes and places, like the tests do

from flask_migrate import upgrade  # noqa: E402 - after the path is set

from app import create_app  # noqa: E402
from app.core.errors import DomainError  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Role, User  # noqa: E402
from app.services.personal_data import importing as personal_data_import  # noqa: E402
from tests.evidence_helpers import publish_and_place  # noqa: E402

ENTRY = "attachments/1/notes.txt"


def hostile_export(items: int, per_item: int, entry_bytes: int, distinct: bool) -> bytes:
    """A ZIP with one entry and items x per_item attachments that all name it (or, distinct,
    as many entries as attachments)."""
    content = b"a" * entry_bytes
    paths = [
        [f"attachments/{item}/notes-{n}.txt" if distinct else ENTRY for n in range(per_item)]
        for item in range(items)
    ]
    listed = {
        "name": "notes.txt",
        "content_type": "text/plain; charset=utf-8",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    evidence = [
        {
            "title": f"Item {number}",
            "occurred_on": "2026-01-02",
            "kind": "launch",
            "body": "",
            "attachments": [{**listed, "path": path} for path in paths[number]],
        }
        for number in range(items)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "rungs-export.json",
            json.dumps({"format": "rungs-personal-data/1", "evidence": evidence}),
        )
        for path in sorted({path for item in paths for path in item}):
            archive.writestr(path, content)
    return buffer.getvalue()


def stored_bytes(root: Path) -> tuple[int, int]:
    files = [path for path in root.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--per-item", type=int, default=10)
    parser.add_argument("--entry-kib", type=int, default=1024)
    parser.add_argument("--distinct", action="store_true", help="one entry per attachment")
    args = parser.parse_args()
    print(f"Command: {shlex.join(['.venv/bin/python', *sys.argv])}")
    upload = hostile_export(args.items, args.per_item, args.entry_kib * 1024, args.distinct)
    with tempfile.TemporaryDirectory(prefix="rungs-bench-") as scratch:
        app = create_app(
            {
                "ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch}/rungs.db",
                "RUNGS_DATA_DIR": scratch,
            },
            environ={},
        )
        with app.app_context():
            upgrade()
            person = User(email="pm@example.com", name="Pat Pm", role=Role.PM)
            db.session.add(person)
            db.session.commit()
            placed = SimpleNamespace(id=person.id)
        publish_and_place(app, [placed])
        with app.app_context():
            try:
                report = personal_data_import.import_upload(
                    db.session.get(User, placed.id), io.BytesIO(upload)
                )
                db.session.commit()
                outcome = f"imported {len(report.imported)} items, {report.attachments} files"
            except DomainError as error:
                db.session.rollback()
                outcome = f"refused: {' | '.join(getattr(error, 'errors', [error.message]))}"
            db.engine.dispose()
        files, size = stored_bytes(Path(scratch) / "attachments")
    copies = args.items * args.per_item
    named = f"{copies} entries" if args.distinct else "one entry"
    print(f"Upload: {len(upload):,} bytes; {copies} attachments naming {named}")
    print(f"Outcome: {outcome}")
    print(f"Stored under RUNGS_DATA_DIR/attachments: {files} files, {size:,} bytes")


if __name__ == "__main__":
    main()

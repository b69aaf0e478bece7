"""Issue 17: uploading and downloading a 10 MB attachment, files in the data folder or in the
database (RUNGS_FILE_STORAGE), through the real views.

    .venv/bin/python bench/storage.py [--repeat N] [--postgres URL]

For each backend it builds a scratch Rungs (real migrations; SQLite in a temporary folder, or a
new database on the PostgreSQL server given), signs one person in with the test client, uploads
the same 10 MB text file N times (each a new attachment) and downloads each back in full, and
prints the median seconds of each and the ratio database / local. ./instance is never touched.
"""

from __future__ import annotations

import argparse
import io
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' factories build the person and the item

import sqlalchemy as sa  # noqa: E402 - after the path is set
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Attachment  # noqa: E402
from tests.conftest import Client  # noqa: E402
from tests.evidence_helpers import publish_and_place, record  # noqa: E402
from tests.factories import Factory, sign_in  # noqa: E402

SIZE = 10 * 1024 * 1024
LINES = b"".join(b"%08d some evidence, line after line\n" % n for n in range(SIZE // 30))
CONTENT = LINES[: SIZE - 1] + b"\n"  # exactly ATTACHMENT_MAX_BYTES


def measure(uri: str, data_dir: Path, backend: str, repeat: int) -> tuple[float, float]:
    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": uri,
            "RUNGS_DATA_DIR": str(data_dir),
            "FILE_STORAGE": backend,
            "ATTACHMENTS_PER_EVIDENCE": repeat,
        },
        environ={},
    )
    app.test_client_class = Client
    with app.app_context():
        upgrade()
    owner = Factory(app).person(name="Bench Mark")
    publish_and_place(app, [owner])
    item = record(app, owner, title="Big files")
    client = app.test_client()
    sign_in(client, owner)
    page = f"/evidence/{item}/attachments"
    uploads, downloads = [], []
    for _ in range(repeat):
        form = {
            "csrf_token": client.csrf_token(),
            "attachment-file": (io.BytesIO(CONTENT), "big.txt"),
        }
        started = time.perf_counter()
        answer = client.post(page, data=form, content_type="multipart/form-data")
        uploads.append(time.perf_counter() - started)
        assert answer.status_code in (302, 303), (
            answer.status_code,
            answer.get_data(as_text=True)[-3000:],
        )
    with app.app_context():
        ids = db.session.scalars(sa.select(Attachment.id)).all()
    for attachment_id in ids:
        started = time.perf_counter()
        with client.get(f"/attachments/{attachment_id}") as answer:
            body = answer.data
        downloads.append(time.perf_counter() - started)
        assert body == CONTENT
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return statistics.median(uploads), statistics.median(downloads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="uploads and downloads per backend")
    parser.add_argument("--postgres", help="a PostgreSQL server URL to create the databases on")
    args = parser.parse_args()
    results = {}
    for backend in ("local", "database"):
        with tempfile.TemporaryDirectory() as folder:
            if args.postgres:
                server = sa.make_url(args.postgres).set(drivername="postgresql+psycopg")
                name = f"rungs_bench_storage_{secrets.token_hex(4)}"
                admin = sa.create_engine(
                    server.set(database="postgres"), isolation_level="AUTOCOMMIT"
                )
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
                try:
                    uri = server.set(database=name).render_as_string(hide_password=False)
                    results[backend] = measure(uri, Path(folder), backend, args.repeat)
                finally:
                    with admin.connect() as connection:
                        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.dispose()
            else:
                uri = f"sqlite:///{Path(folder) / 'rungs.db'}"
                results[backend] = measure(uri, Path(folder), backend, args.repeat)
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(f"10 MB attachment, {kind}, median of {args.repeat} (seconds):")
    print(f"{'backend':10} {'upload':>8} {'download':>9}")
    for backend, (up, down) in results.items():
        print(f"{backend:10} {up:8.3f} {down:9.3f}")
    (local_up, local_down), (db_up, db_down) = results["local"], results["database"]
    print(f"database / local: upload {db_up / local_up:.2f}, download {db_down / local_down:.2f}")


if __name__ == "__main__":
    main()

"""Issue 18: how long `flask backup create`, `verify` and `restore` take, and how large the
archive is, for the demo organisation plus bulk data. Not a test.

    .venv/bin/python bench/backup.py [--items 50000] [--files 2000] [--postgres URL]

It builds a scratch RUNGS_DATA_DIR (removed at the end; ./instance is never touched) with the demo
organisation (`flask demo load`), then adds --items evidence items (each with a markdown body and
a competency tag, spread over the demo's people) and --files attachments of realistic sizes
(random bytes, as incompressible as the PNGs and PDFs people attach: 80 KB to 1.5 MB, about
600 KB on average). It runs the three commands through the CLI and prints time and size for
each. With --postgres (the URL of an EMPTY database), the organisation lives there and the
restore goes into a second scratch database on the same server. --items 0 --files 0 measures the
demo alone.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402 - after the path is set

from app import create_app, demo  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Attachment, Evidence, EvidenceCompetency, User  # noqa: E402
from app.models.base import utcnow  # noqa: E402

SIZES = [80_000, 250_000, 600_000, 1_500_000]
BODY = "We shipped **the thing** to every account; activation moved as below.\n\n" * 6


def build(uri: str, data_dir: Path):
    return create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": uri, "RUNGS_DATA_DIR": str(data_dir)},
        environ={},
    )


def bulk(app, items: int, files: int, data_dir: Path) -> None:
    rng = random.Random(18)
    with app.app_context():
        owners = db.session.execute(sa.select(User.id)).scalars().all()
        tag = db.session.execute(
            sa.select(EvidenceCompetency.framework_id, EvidenceCompetency.competency_key)
        ).first()
        first = (db.session.execute(sa.select(sa.func.max(Evidence.id))).scalar() or 0) + 1
        now, start = utcnow(), date(2025, 1, 1)
        for low in range(0, items, 5000):
            rows = [
                {
                    "id": first + n, "owner_id": rng.choice(owners), "title": f"Bulk item {n}",
                    "body": BODY, "occurred_on": start + timedelta(days=n % 700), "kind": "launch",
                    "visibility": "shared", "metric": "Activation", "metric_before": "31",
                    "metric_after": "38", "metric_unit": "%", "created_at": now,
                    "updated_at": now, "revision": 1,
                }
                for n in range(low, min(items, low + 5000))
            ]  # fmt: skip
            db.session.execute(sa.insert(Evidence.__table__), rows)
            if tag:
                tags = [
                    {"evidence_id": r["id"], "framework_id": tag[0], "competency_key": tag[1]}
                    for r in rows
                ]
                db.session.execute(sa.insert(EvidenceCompetency.__table__), tags)
        attachments = []
        for n in range(files):
            name, size = secrets.token_hex(32), rng.choice(SIZES)
            path = data_dir / "attachments" / name[:2] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            content = rng.randbytes(size)
            path.write_bytes(content)
            attachments.append(
                {"evidence_id": first + n % max(items, 1), "stored_name": name,
                 "original_name": f"screen-{n}.png", "content_type": "image/png", "size": size,
                 "sha256": hashlib.sha256(content).hexdigest(), "uploaded_at": now}
            )  # fmt: skip
        if attachments and items:
            db.session.execute(sa.insert(Attachment.__table__), attachments)
        db.session.commit()


def timed(app, *args) -> tuple[float, str]:
    started = time.monotonic()
    result = app.test_cli_runner().invoke(args=list(args))
    seconds = time.monotonic() - started
    if result.exit_code != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.output}")
    return seconds, result.output


def scratch_postgres(url: str) -> tuple[str, sa.Engine, str]:
    admin = sa.create_engine(
        sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    name = f"rungs_bench_restore_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False), admin, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rungs-bench-backup-"))
    admin = None
    try:
        source_dir, target_dir = work / "source", work / "target"
        uri = options.postgres or f"sqlite:///{source_dir / 'rungs.db'}"
        if options.postgres and not uri.startswith("postgresql+"):
            uri = uri.replace("postgresql://", "postgresql+psycopg://", 1)
        source = build(uri, source_dir)
        with source.app_context():
            upgrade()
            demo.load()
            db.session.commit()
        started = time.monotonic()
        bulk(source, options.items, options.files, source_dir)
        print(f"built: demo + {options.items:,} items + {options.files:,} files "
              f"in {time.monotonic() - started:.1f} s")  # fmt: skip
        archive = work / "bench.zip"
        seconds, output = timed(source, "backup", "create", "-o", str(archive))
        print(f"create  {seconds:7.2f} s  archive {archive.stat().st_size / 1e6:9.1f} MB")
        print("   " + output.splitlines()[1].strip())
        seconds, _output = timed(source, "backup", "verify", str(archive))
        print(f"verify  {seconds:7.2f} s")
        target_uri = f"sqlite:///{target_dir / 'rungs.db'}"
        if options.postgres:
            target_uri, admin, name = scratch_postgres(uri)
        target = build(target_uri, target_dir)
        seconds, _output = timed(target, "backup", "restore", str(archive))
        print(f"restore {seconds:7.2f} s")
        for app in (source, target):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
        os.sync()


if __name__ == "__main__":
    main()

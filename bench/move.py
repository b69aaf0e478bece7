"""Issue 18: how long `flask db move-to` takes, from a SQLite Rungs to an empty PostgreSQL one.

    .venv/bin/python bench/move.py [--evidence N] [--server URL]

It builds a scratch SQLite Rungs (real migrations, the demo organisation, a row in every table,
the evidence table grown to N rows), creates a new database on the PostgreSQL server (default:
the local one), moves into it as the command does (migrations, copy, sequences, the comparison
of every table), prints rows, seconds, rows/s and the process's peak memory, and drops the
database again. ./instance is never touched.
"""

from __future__ import annotations

import argparse
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.move_data builds the source, like the tests do

import sqlalchemy as sa  # noqa: E402 - after the path is set

from app.extensions import db  # noqa: E402
from app.move.cli import migrations_upgrader  # noqa: E402
from app.services.database import move as moving  # noqa: E402
from tests import move_data  # noqa: E402

LOCAL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", type=int, default=0, help="evidence rows (0: the demo's)")
    parser.add_argument("--server", default=LOCAL, help="a PostgreSQL URL to create a database on")
    args = parser.parse_args()
    server = sa.make_url(args.server).set(drivername="postgresql+psycopg")
    name = f"rungs_bench_move_{secrets.token_hex(4)}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with tempfile.TemporaryDirectory() as data_dir, admin.connect() as connection:
        started = time.monotonic()
        source = move_data.sqlite_rungs(Path(data_dir), evidence=args.evidence)
        print(f"source built in {time.monotonic() - started:.1f} s")
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            directory = source.extensions["migrate"].directory
            with source.app_context():
                result = moving.move(
                    db.engine,
                    server.set(database=name),
                    directory,
                    migrations_upgrader(directory),
                )
        finally:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            move_data.close(source)
    evidence = next(t.source.rows for t in result.tables if t.name == "evidence")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"moved {result.rows:,} rows ({evidence:,} evidence) in {len(result.tables)} tables: "
        f"{result.seconds:.1f} s, {result.rows / result.seconds:,.0f} rows/s, "
        f"peak memory {peak:.0f} MiB"
    )
    print("  " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in result.phases.items()))


if __name__ == "__main__":
    main()

"""Run the test suite on a throw-away PostgreSQL database, created and dropped around the run.

The server is the one TEST_DATABASE_URL names (its own database is never touched), or the local
one on 127.0.0.1:5432, which is started if it is down.
"""

from __future__ import annotations

import glob
import os
import secrets
import subprocess
import sys
import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def ensure_local_server(url: sa.URL) -> None:
    if url.host not in ("127.0.0.1", "localhost"):
        return
    if subprocess.run(["pg_isready", "-q", "-h", url.host, "-p", str(url.port or 5432)]).returncode:
        clusters = [os.path.basename(path) for path in glob.glob("/etc/postgresql/*")]
        if not clusters:
            sys.exit("PostgreSQL is not running and no local cluster was found to start.")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[0], "main", "start"],
            check=True,
        )
    for _ in range(30):
        if not subprocess.run(["pg_isready", "-q", "-h", url.host]).returncode:
            return
        time.sleep(1)
    sys.exit("PostgreSQL did not become ready on 127.0.0.1:5432.")


def main() -> int:
    server = make_url(os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER)
    server = server.set(drivername="postgresql+psycopg")
    ensure_local_server(server)
    name = f"rungs_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        # As tests/conftest.py's new_database: commits need not wait for the WAL on disk.
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        env = {**os.environ, "TEST_DATABASE_URL": server.set(database=name).render_as_string(False)}
        print(f"Running the suite on PostgreSQL (database {name})", flush=True)
        return subprocess.run([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env).returncode
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())

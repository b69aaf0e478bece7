"""`flask backup create` and the restore's upgrade, as an operator meets them: a path that cannot
be written, a full disk, an unreadable data file, an existing file, a stuck or locked pg_dump and a
failing upgrade each end in one clear message (never a traceback) and leave nothing half-made."""

from __future__ import annotations

import errno
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models import Job, Setting
from app.services.backups import archive, creating, snapshot, status
from app.services.backups.snapshot import BackupError
from app.services.database import inventory
from tests.test_upgrades import HEAD

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def refused(result, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and "Traceback" not in result.output, result.output
    for phrase in phrases:
        assert phrase in result.output, (phrase, result.output)


def nothing_recorded(app) -> bool:
    with app.app_context():
        return db.session.get(Setting, status.SETTING_KEY) is None


def test_a_folder_that_cannot_be_made_is_named(app, org):
    result = run_cli(app, "backup", "create", "-o", "/proc/nope/x.zip")
    refused(result, "No backup was written to /proc/nope/x.zip", "/proc/nope")
    assert nothing_recorded(app)


def test_a_full_disk_leaves_no_half_written_archive(app, org, tmp_path, monkeypatch):
    def full(self, member, source, *, deflate=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive.Writer, "add", full)
    result = run_cli(app, "backup", "create", "-o", str(tmp_path / "nightly.zip"))
    refused(result, f"No backup was written to {tmp_path / 'nightly.zip'}", "No space left")
    assert list(tmp_path.iterdir()) == []  # not the archive, not its .part
    assert nothing_recorded(app)


def test_an_unreadable_data_file_is_named(app, org, tmp_path, monkeypatch):
    data_dir = Path(app.config["RUNGS_DATA_DIR"])
    unreadable = data_dir / "pdf-cache" / "framework-unreadable.pdf"
    unreadable.parent.mkdir(parents=True, exist_ok=True)
    unreadable.write_bytes(b"%PDF-1.4")
    real_add = archive.Writer.add

    def add(self, member, source, *, deflate=False):
        if source == unreadable:
            raise PermissionError(errno.EACCES, "Permission denied", str(source))
        return real_add(self, member, source, deflate=deflate)

    monkeypatch.setattr(archive.Writer, "add", add)
    try:
        result = run_cli(app, "backup", "create", "-o", str(tmp_path / "nightly.zip"))
    finally:
        unreadable.unlink()
    refused(result, f"{unreadable} could not be read (Permission denied)", "data folder")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_never_written_over(app, org, tmp_path):
    existing = tmp_path / "keep-me.zip"
    existing.write_bytes(b"last week's backup")
    refused(run_cli(app, "backup", "create", "-o", str(existing)), "already exists")
    assert existing.read_bytes() == b"last week's backup"
    assert nothing_recorded(app)


def test_default_names_taken_in_the_same_second_differ(tmp_path):
    now = datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC)
    names = {creating.default_path(tmp_path, now).name for _ in range(20)}
    assert len(names) == 20
    assert all(name.startswith("rungs-backup-20261206-010203Z-") for name in names)


WROTE = re.compile(r"Wrote \S+: ([\d.]+ (?:KB|MB)) \(([\d,]+) bytes\), mode 0600\.")


def test_sizes_read_the_same_on_the_command_line_and_the_page(app, org, client, tmp_path):
    from tests.factories import sign_in

    result = run_cli(app, "backup", "create", "-o", str(tmp_path / "a.zip"))
    assert result.exit_code == 0, result.output
    wrote = WROTE.search(result.output)
    assert wrote, result.output
    assert int(wrote.group(2).replace(",", "")) == (tmp_path / "a.zip").stat().st_size
    sign_in(client, org.head)
    page = client.get("/settings/backups").get_data(as_text=True)
    assert f"<dd>{wrote.group(1)}</dd>" in page


def test_a_client_program_that_hangs_is_stopped(monkeypatch):
    monkeypatch.setattr(snapshot, "CLIENT_TIMEOUT_SECONDS", 0.3)
    with pytest.raises(BackupError, match=r"still running after .* and was stopped"):
        snapshot.run(["sleep", "5"], {}, "pg_dump")


@pytest.fixture
def on_postgres(empty_postgres, tmp_path):
    """An app on a new PostgreSQL database at the newest revision (in both passes)."""
    uri = empty_postgres.render_as_string(hide_password=False)
    other = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": uri, "RUNGS_DATA_DIR": str(tmp_path / "d")},
        environ={},
    )
    with other.app_context():
        upgrade()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_pg_dump_never_asks_for_a_password_nor_waits_for_ever(on_postgres, tmp_path, monkeypatch):
    commands = []
    real_run = snapshot.run
    monkeypatch.setattr(snapshot, "run", lambda c, e, n: commands.append(c) or real_run(c, e, n))
    result = run_cli(on_postgres, "backup", "create", "-o", str(tmp_path / "pg.zip"))
    assert result.exit_code == 0, result.output
    assert "--no-password" in commands[0] and "--lock-wait-timeout=60s" in commands[0]


def test_a_table_locked_too_long_stops_pg_dump_with_a_reason(on_postgres, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "LOCK_WAIT_TIMEOUT", "1s")
    with on_postgres.app_context():
        locker = db.engine.connect()
        locker.exec_driver_sql("LOCK TABLE settings IN ACCESS EXCLUSIVE MODE")
        try:
            result = run_cli(on_postgres, "backup", "create", "-o", str(tmp_path / "pg.zip"))
        finally:
            locker.rollback()
            locker.close()
    refused(result, "pg_dump failed", "held a table lock for more than 1s")
    assert not (tmp_path / "pg.zip").exists()


def test_a_failing_upgrade_after_a_restore_says_where_the_data_stands(
    app, tmp_path, request, monkeypatch
):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        uri = request.getfixturevalue("empty_postgres").render_as_string(hide_password=False)
    else:
        uri = f"sqlite:///{tmp_path / 'old' / 'rungs.db'}"
    old = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": uri, "RUNGS_DATA_DIR": str(tmp_path / "old")},
        environ={},
    )
    with old.app_context():
        upgrade(revision="0009")
    backup = tmp_path / "old.zip"
    assert run_cli(old, "backup", "create", "-o", str(backup)).exit_code == 0
    _lose_database(old)

    def broken(config, revision):
        raise RuntimeError("foreign key violations after migrating: [('evidence', 1)]")

    monkeypatch.setattr("app.backups.cli.command.upgrade", broken)
    result = run_cli(old, "backup", "restore", str(backup))
    refused(result, "The archive is restored", f"from 0009 to {HEAD} failed", "foreign key")
    assert "at revision 0009" in result.output and "flask db upgrade" in result.output
    with old.app_context(), db.engine.connect() as connection:
        assert inventory.schema_revision(connection) == "0009"
    with old.app_context():
        db.engine.dispose()


def _lose_database(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
        db.engine.dispose()
        if db.engine.dialect.name == "sqlite":
            Path(db.engine.url.database).unlink()


def test_a_lost_file_is_told_apart_from_one_deleted_during_the_backup(
    app, org, tmp_path, monkeypatch
):
    purged = Path(app.config["RUNGS_DATA_DIR"]) / "jobs" / "purged.zip"
    purged.parent.mkdir(parents=True, exist_ok=True)
    purged.write_bytes(b"PK")
    with app.app_context():  # one file lost from the data folder, one there at the snapshot
        db.session.add(Job(kind="export", result_path="jobs/lost.zip"))
        db.session.add(Job(kind="export", result_path="jobs/purged.zip"))
        db.session.commit()
    real_take = snapshot.take

    def take_then_purge(engine, workdir):  # the row and its file go right after the snapshot
        taken = real_take(engine, workdir)
        with engine.begin() as connection:
            connection.execute(sa.delete(Job).where(Job.result_path == "jobs/purged.zip"))
        purged.unlink()
        return taken

    monkeypatch.setattr(snapshot, "take", take_then_purge)
    result = run_cli(app, "backup", "create", "-o", str(tmp_path / "b.zip"))
    refused(result, "1 file the database names was not in the data folder", "(jobs/lost.zip)")
    assert "Put it back from an older backup" in result.output
    assert "missing from the data folder, the database names it: jobs/lost.zip" in result.output
    assert "not in the archive: jobs/purged.zip (deleted after the snapshot" in result.output
    with zipfile.ZipFile(tmp_path / "b.zip") as written:
        manifest = json.loads(written.read("manifest.json"))
    assert len(manifest["missing_files"]) == 2
    with app.app_context():
        value = db.session.get(Setting, status.SETTING_KEY).value
    assert value["missing_files"] == 2 and value["lost_files"] == 1


def test_several_lost_files_read_in_the_plural():
    from app.backups.cli import _lost_message

    message = _lost_message(["jobs/a.zip", "jobs/b.zip"])
    assert message.startswith("2 files the database names were not in the data folder")
    assert "(first: jobs/a.zip)" in message and "Put them back" in message

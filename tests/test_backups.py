"""Backups: create → verify → restore gives the same data, on the suite's own database kind;
damaged archives, non-empty targets, other kinds and newer revisions are refused; older ones are
upgraded; a backup taken while other processes write restores to exactly its manifest."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import shutil
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models import Attachment, Job, Setting, User
from app.services.backups import archive as archive_module
from app.services.backups import restoring, snapshot
from app.services.backups.snapshot import BackupError
from app.services.database import inventory
from tests import file_samples as samples
from tests.backup_worker import keep_writing
from tests.evidence_helpers import publish_and_place, record
from tests.test_upgrades import HEAD

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def build_app(uri: str, data_dir: Path):
    return create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": uri, "RUNGS_DATA_DIR": str(data_dir)},
        environ={},
    )


@pytest.fixture
def fresh_uri(app, request, tmp_path):
    """A new, empty database of the suite's kind (SQLite file, or an empty PostgreSQL one)."""
    if is_postgres(app):
        return request.getfixturevalue("empty_postgres").render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'target' / 'rungs.db'}"


@pytest.fixture
def target(fresh_uri, tmp_path):
    """An app on an empty database and an empty data folder, to restore into."""
    other = build_app(fresh_uri, tmp_path / "target")
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def summary_of(app) -> dict:
    with app.app_context(), db.engine.connect() as connection:
        found = inventory.summarise(connection)
    return {name: {"rows": s.rows, "sha256": s.sha256} for name, s in found.items()}


# The restore records itself (the last backup: restored from this archive), audited.
RECORDED_BY_RESTORE = ("settings", "audit_events")


def restored_data(app) -> dict:
    """The target's summary without the tables the restore's own record writes to."""
    found = summary_of(app)
    return {name: s for name, s in found.items() if name not in RECORDED_BY_RESTORE}


def without_record(tables: dict) -> dict:
    return {name: s for name, s in tables.items() if name not in RECORDED_BY_RESTORE}


def manifest_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


@pytest.fixture
def seeded(app, org):
    """Evidence with attachments, a job result file and a cached PDF in the suite's data folder."""
    publish_and_place(app, [org.pm_a1])
    data_dir = Path(app.config["RUNGS_DATA_DIR"])
    items = [record(app, org.pm_a1, title=f"Item {number}") for number in range(3)]
    with app.app_context():
        from app.services import evidence as evidence_service
        from app.services.evidence import attachments

        owner = db.session.get(User, org.pm_a1.id)
        for number, item_id in enumerate(items):
            item = evidence_service.get_evidence(item_id)
            content = samples.image("PNG") if number else samples.pdf()
            name = f"file{number}.png" if number else "file0.pdf"
            attachments.add_attachment(owner, item, name, io.BytesIO(content))
        result = data_dir / "jobs" / "result-for-backup.zip"
        result.parent.mkdir(parents=True, exist_ok=True)
        result.write_bytes(b"PK job result")
        db.session.add(Job(kind="export", result_path="jobs/result-for-backup.zip"))
        db.session.commit()
    cached = data_dir / "pdf-cache" / "framework-backup-test.pdf"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(samples.pdf())
    return org


def test_create_verify_restore_round_trip(app, seeded, target, tmp_path):
    archive = tmp_path / "nightly.zip"
    made = cli(app, "backup", "create", "-o", str(archive))
    assert made.exit_code == 0, made.output
    assert "tables" in made.output and "files" in made.output
    manifest = manifest_of(archive)
    assert manifest["database"] == ("postgresql" if is_postgres(app) else "sqlite")
    paths = {f["path"] for f in manifest["files"]}
    assert "jobs/result-for-backup.zip" in paths and "pdf-cache/framework-backup-test.pdf" in paths
    assert sum(p.startswith("attachments/") for p in paths) == 3
    assert manifest["tables"]["attachments"]["rows"] == 3
    assert archive.stat().st_mode & 0o777 == 0o600
    with app.app_context():  # recorded as the last backup, after the archive was complete
        assert db.session.get(Setting, "backups.last").value["path"] == str(archive)

    checked = cli(app, "backup", "verify", str(archive))
    assert checked.exit_code == 0, checked.output
    assert checked.output.rstrip().endswith("OK")

    restored = cli(target, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert restored_data(target) == without_record(manifest["tables"])
    target_dir = Path(target.config["RUNGS_DATA_DIR"])
    for entry in manifest["files"]:
        content = (target_dir / entry["path"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
    with target.app_context():
        stored = db.session.execute(sa.select(Attachment.stored_name)).scalars().all()
        assert all((target_dir / "attachments" / n[:2] / n).is_file() for n in stored)
        last = db.session.get(Setting, "backups.last").value  # restored from, not the old row
        assert last["path"] == str(archive) and last["restored_at"]


def damaged_copies(archive: Path, tmp_path: Path) -> dict[str, Path]:
    data = archive.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = tmp_path / "flipped.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(flipped, "w") as out:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.startswith("files/attachments/"):
                content = content[:-1] + bytes([content[-1] ^ 1])
            out.writestr(info, content)
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as out:
        out.writestr("manifest.json", json.dumps({"format": "something-else"}))
    text = tmp_path / "notes.zip"
    text.write_text("not an archive")
    return {"truncated": truncated, "flipped": flipped, "foreign": foreign, "text": text}


def test_damaged_or_foreign_archives_are_refused(app, seeded, target, tmp_path):
    archive = tmp_path / "good.zip"
    assert cli(app, "backup", "create", "-o", str(archive)).exit_code == 0
    for name, bad in damaged_copies(archive, tmp_path).items():
        checked = cli(app, "backup", "verify", str(bad))
        assert checked.exit_code == 1, (name, checked.output)
        assert "Error:" in checked.output and "Traceback" not in checked.output, name
        restored = cli(target, "backup", "restore", str(bad))
        assert restored.exit_code == 1, (name, restored.output)
    assert (
        "does not match the manifest"
        in cli(app, "backup", "verify", str(tmp_path / "flipped.zip")).output
    )
    assert not (Path(target.config["RUNGS_DATA_DIR"]) / "attachments").exists()


def test_a_non_empty_target_is_refused_unless_replace_which_keeps_it(app, seeded, target, tmp_path):
    archive = tmp_path / "one.zip"
    assert cli(app, "backup", "create", "-o", str(archive)).exit_code == 0
    assert cli(target, "backup", "restore", str(archive)).exit_code == 0
    with target.app_context():
        db.session.add(Setting(key="written-after-restore", value={"kept": True}))
        db.session.commit()

    again = cli(target, "backup", "restore", str(archive))
    assert again.exit_code == 1 and "--replace" in again.output

    target_dir = Path(target.config["RUNGS_DATA_DIR"])
    stray = target_dir / "attachments" / "zz" / "no-row-names-me"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"kept all the same")
    replaced = cli(target, "backup", "restore", "--replace", str(archive))
    assert replaced.exit_code == 0, replaced.output
    folder = Path(replaced.output.split("kept in ")[1].split(": ")[0])
    kept = folder / "rungs-backup.zip"
    assert kept.is_file() and f"flask backup restore {kept} --replace" in replaced.output
    assert folder.parent == target_dir / "backups"
    # Moved whole: a file no row names is kept too, and gone from the restored folder.
    assert (folder / "attachments" / "zz" / "no-row-names-me").read_bytes() == b"kept all the same"
    assert not stray.exists()
    assert replaced.output.rstrip().splitlines()[-1].startswith("Restart Rungs")
    assert (
        manifest_of(kept)["tables"]["settings"]["rows"]
        == manifest_of(archive)["tables"]["settings"]["rows"]
        + 2  # + backups.last of the first restore
    )
    expected = manifest_of(archive)["tables"]  # the extra row is gone here…
    assert summary_of(target)["settings"]["rows"] == expected["settings"]["rows"] + 1  # + last
    assert restored_data(target) == without_record(expected)
    assert cli(target, "backup", "verify", str(kept)).exit_code == 0  # …and kept there


def rewrite_manifest(archive: Path, out: Path, **changes) -> Path:
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "manifest.json":
                content = json.dumps({**json.loads(content), **changes}).encode()
            target.writestr(info, content)
    return out


def test_newer_revisions_and_other_database_kinds_are_refused(app, seeded, target, tmp_path):
    archive = tmp_path / "b.zip"
    assert cli(app, "backup", "create", "-o", str(archive)).exit_code == 0
    newer = rewrite_manifest(archive, tmp_path / "newer.zip", schema_revision="9999")
    refused = cli(target, "backup", "restore", str(newer))
    assert refused.exit_code == 1 and "newer than this Rungs knows" in refused.output
    other_kind = "sqlite" if is_postgres(app) else "postgresql"
    other = rewrite_manifest(archive, tmp_path / "other.zip", database=other_kind)
    refused = cli(target, "backup", "restore", str(other))
    # The move goes only from SQLite to PostgreSQL: advise it only in that direction.
    advice = "flask db move-to" if other_kind == "sqlite" else "DATABASE_URL"
    assert refused.exit_code == 1 and advice in refused.output, refused.output
    for sneaky in ("rungs.db", "../outside.txt", "/etc/passwd", "attachments"):
        entry = {"path": sneaky, "size": 1, "sha256": "0" * 64}
        bad = rewrite_manifest(archive, tmp_path / "sneaky.zip", files=[entry])
        refused = cli(target, "backup", "restore", str(bad))
        assert refused.exit_code == 1 and "manifest" in refused.output, sneaky
    assert summary_of(target) == {}  # nothing was touched


def test_an_older_archive_is_upgraded_on_restore(fresh_uri, tmp_path):
    old = build_app(fresh_uri, tmp_path / "old")
    with old.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO settings (key, value, updated_at) VALUES ('kept', '{}', :at)"),
                {"at": "2026-01-01 00:00:00"},
            )
    archive = tmp_path / "old.zip"
    made = cli(old, "backup", "create", "-o", str(archive))
    assert made.exit_code == 0, made.output
    assert manifest_of(archive)["schema_revision"] == "0009"
    lose_database(old)  # the machine lost its database: restore into an empty one
    restored = cli(old, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"Upgraded the schema from 0009 to {HEAD}" in restored.output
    with old.app_context(), db.engine.connect() as connection:
        assert inventory.schema_revision(connection) == HEAD
        keys = connection.exec_driver_sql("SELECT key FROM settings ORDER BY key").scalars()
        assert keys.all() == ["backups.last", "kept"]  # recorded once upgraded
    with old.app_context():
        db.engine.dispose()


def lose_database(app) -> None:
    with app.app_context():
        if is_postgres(app):
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
        db.engine.dispose()
        if not is_postgres(app):
            Path(db.engine.url.database).unlink()


def test_a_missing_client_program_is_named(monkeypatch):
    monkeypatch.setattr(snapshot.shutil, "which", lambda name: None)
    with pytest.raises(BackupError, match="pg_dump was not found on PATH"):
        snapshot.tool("pg_dump")


WRITERS = 2


def test_a_backup_taken_while_others_write_restores_to_its_manifest(app, org, target, tmp_path):
    publish_and_place(app, [org.pm_a1])
    uri, data_dir = app.config["SQLALCHEMY_DATABASE_URI"], app.config["RUNGS_DATA_DIR"]
    stop = tmp_path / "stop"
    args = [(uri, data_dir, org.pm_a1.id, str(stop), f"Writer{n}") for n in range(WRITERS)]
    archive = tmp_path / "busy.zip"
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        running = pool.starmap_async(keep_writing, args)
        _wait_for_rows(app, 6)
        made = cli(app, "backup", "create", "-o", str(archive))
        time.sleep(0.5)  # let them write after the snapshot, too
        stop.touch()
        written = sum(running.get(timeout=90))
    assert made.exit_code == 0, made.output
    manifest = manifest_of(archive)
    rows_at_backup = manifest["tables"]["evidence"]["rows"]
    assert 0 < rows_at_backup < written  # the backup was taken in the middle of the writing
    assert cli(app, "backup", "verify", str(archive)).exit_code == 0
    assert cli(target, "backup", "restore", str(archive)).exit_code == 0
    assert restored_data(target) == without_record(manifest["tables"])
    target_dir = Path(target.config["RUNGS_DATA_DIR"])
    for entry in manifest["files"]:
        assert (
            hashlib.sha256((target_dir / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
        )
    # Every attachment row in the snapshot has its file, or is recorded as removed after it.
    missing = {m["path"] for m in manifest["missing_files"]}
    copied = {f["path"] for f in manifest["files"]}
    with target.app_context():
        names = db.session.execute(sa.select(Attachment.stored_name)).scalars().all()
    assert {f"attachments/{n[:2]}/{n}" for n in names} <= copied | missing


def _wait_for_rows(app, rows: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app.app_context():
            if db.session.execute(sa.select(sa.func.count(Attachment.id))).scalar_one() >= rows:
                return
            db.session.rollback()
        time.sleep(0.2)
    raise AssertionError("the writers wrote nothing")


def test_a_file_the_live_database_still_names_but_lost_fails_loudly(app, seeded, tmp_path):
    data_dir = Path(app.config["RUNGS_DATA_DIR"])
    with app.app_context():
        name = db.session.execute(sa.select(Attachment.stored_name)).scalars().first()
    (data_dir / "attachments" / name[:2] / name).unlink()
    archive = tmp_path / "damaged.zip"
    made = cli(app, "backup", "create", "-o", str(archive))
    assert made.exit_code == 1
    assert "missing from the data folder" in made.output and name in made.output
    manifest = manifest_of(archive)  # written all the same, the loss on record
    assert [m["path"] for m in manifest["missing_files"]] == [f"attachments/{name[:2]}/{name}"]
    checked = cli(app, "backup", "verify", str(archive))  # lost, not purged: verify says so too
    assert checked.exit_code == 1 and "still names" in checked.output and name in checked.output
    with app.app_context():  # once no row names it (purged), it is a note, not a failure
        db.session.execute(sa.delete(Attachment).where(Attachment.stored_name == name))
        db.session.commit()
    checked = cli(app, "backup", "verify", str(archive))
    assert checked.exit_code == 0, checked.output
    assert f"not in the archive: attachments/{name[:2]}/{name}" in checked.output


def test_verify_compares_the_schema_revision_with_the_copy(app, seeded, tmp_path):
    archive = tmp_path / "rev.zip"
    assert cli(app, "backup", "create", "-o", str(archive)).exit_code == 0
    edited = rewrite_manifest(archive, tmp_path / "edited.zip", schema_revision="0099")
    checked = cli(app, "backup", "verify", str(edited))
    assert checked.exit_code == 1 and "schema revision" in checked.output, checked.output


def test_a_restore_failing_partway_says_where_the_previous_data_is(
    app, seeded, target, tmp_path, monkeypatch
):
    archive = tmp_path / "one.zip"
    assert cli(app, "backup", "create", "-o", str(archive)).exit_code == 0
    assert cli(target, "backup", "restore", str(archive)).exit_code == 0
    real_extract = archive_module.extract

    def full_disk(zipped, member, path):
        if member.startswith("files/"):
            raise OSError(28, "No space left on device")
        real_extract(zipped, member, path)

    monkeypatch.setattr(archive_module, "extract", full_disk)
    failed = cli(target, "backup", "restore", "--replace", str(archive))
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "No space left on device" in failed.output and "partial or empty" in failed.output
    kept = Path(failed.output.split("previous data is in ")[1].split(":")[0])
    assert f"flask backup restore {kept / 'rungs-backup.zip'} --replace" in " ".join(
        failed.output.split()
    )
    monkeypatch.setattr(archive_module, "extract", real_extract)
    monkeypatch.setattr(restoring, "_restore_database", _pg_restore_fails)
    failed = cli(target, "backup", "restore", "--replace", str(archive))
    assert failed.exit_code == 1 and "pg_restore failed" in failed.output
    assert "partial or empty" in failed.output
    monkeypatch.undo()
    back = cli(target, "backup", "restore", "--replace", str(kept / "rungs-backup.zip"))
    assert back.exit_code == 0, back.output
    assert restored_data(target) == without_record(manifest_of(archive)["tables"])


def _pg_restore_fails(engine, dump):
    raise BackupError("pg_restore failed (exit 1): could not execute query")


def test_nothing_changes_without_the_space_to_restore(app, seeded, target, tmp_path, monkeypatch):
    archive = tmp_path / "one.zip"
    assert cli(app, "backup", "create", "-o", str(archive)).exit_code == 0
    monkeypatch.setattr(
        restoring.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 0)
    )
    refused = cli(target, "backup", "restore", str(archive))
    assert refused.exit_code == 1 and "Not enough free space" in refused.output
    assert summary_of(target) == {}
    assert not (Path(target.config["RUNGS_DATA_DIR"]) / "attachments").exists()


def test_connections_open_during_a_restore_see_the_restored_data(app, seeded, target, tmp_path):
    """A running Rungs keeps its connections: on SQLite the restore writes into the same file,
    so they read the restored rows and their writes are not lost into a deleted file."""
    archive = tmp_path / "one.zip"
    assert cli(app, "backup", "create", "-o", str(archive)).exit_code == 0
    assert cli(target, "backup", "restore", str(archive)).exit_code == 0
    held = sa.create_engine(target.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    expected = manifest_of(archive)["tables"]["settings"]["rows"] + 1  # + backups.last
    with held.connect() as connection:
        connection.execute(sa.text("INSERT INTO settings (key, value, updated_at) VALUES "
                                   "('before', '{}', '2026-01-01 00:00:00')"))  # fmt: skip
        connection.commit()
        replaced = cli(target, "backup", "restore", "--replace", str(archive))
        assert replaced.exit_code == 0, replaced.output
        count = "SELECT count(*) FROM settings"
        assert connection.exec_driver_sql(count).scalar() == expected
        connection.execute(sa.text("INSERT INTO settings (key, value, updated_at) VALUES "
                                   "('after', '{}', '2026-01-01 00:00:00')"))  # fmt: skip
        connection.commit()
    held.dispose()
    with target.app_context():
        db.engine.dispose()
        assert db.session.get(Setting, "after") is not None
        assert db.session.get(Setting, "before") is None


def test_archive_members_and_manifest_are_read_only_as_far_as_declared(tmp_path, monkeypatch):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("big", b"\0" * (8 * 1024 * 1024))
        out.writestr("manifest.json", json.dumps({"format": "rungs-backup"}))
    reads = []
    real_read = zipfile.ZipExtFile.read
    monkeypatch.setattr(
        zipfile.ZipExtFile, "read", lambda f, n=-1: reads.append(n) or real_read(f, n)
    )
    with zipfile.ZipFile(path) as zipped:
        problem = archive_module.check_member(zipped, "big", 10, "0" * 64)
    assert "does not match the manifest" in problem and len(reads) == 1
    monkeypatch.setattr(archive_module, "MANIFEST_LIMIT", 10)
    with pytest.raises(BackupError, match="larger than"):
        archive_module.open_archive(path)


def test_a_restore_waits_for_a_running_rungs_only_so_long(
    app, seeded, target, tmp_path, monkeypatch
):
    """A connection that holds the database (a request or worker mid-transaction) stops the
    swap with a clear message after the lock timeout, instead of hanging."""
    archive = tmp_path / "one.zip"
    assert cli(app, "backup", "create", "-o", str(archive)).exit_code == 0
    assert cli(target, "backup", "restore", str(archive)).exit_code == 0
    monkeypatch.setattr(restoring, "LOCK_TIMEOUT", 1)
    holder = sa.create_engine(target.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    with holder.connect() as connection:
        if is_postgres(target):  # a transaction that read a table holds it against DROP
            connection.exec_driver_sql("SELECT count(*) FROM settings")
        else:  # SQLite: a writer's transaction
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        started = time.monotonic()
        failed = cli(target, "backup", "restore", "--replace", str(archive))
        connection.rollback()
    holder.dispose()
    assert failed.exit_code == 1 and "Traceback" not in failed.output, failed.output
    assert "a running Rungs or its workers" in failed.output and time.monotonic() - started < 20
    if is_postgres(target):  # the tables were held at the swap, after the files were written
        assert "another connection holds it" in failed.output
        assert "partial or empty" in failed.output
    else:  # SQLite's writer lock stops even the reading before anything changes
        assert "nothing was changed" in failed.output


def test_the_sqlite_swap_gives_up_on_a_writer_that_holds_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(restoring, "LOCK_TIMEOUT", 0.5)
    copy, live = tmp_path / "copy.db", tmp_path / "live.db"
    sqlite3.connect(copy).close()
    holder = sqlite3.connect(live, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BackupError, match="another connection holds it"):
            restoring._copy_into_sqlite(copy, live)
    finally:
        holder.close()


def test_files_held_in_the_database_travel_in_its_copy(app, org, target, tmp_path, monkeypatch):
    """RUNGS_FILE_STORAGE=database: the files are rows, so the archive holds them in the
    database copy; none is reported lost, verify and restore read each back from its chunks."""
    monkeypatch.setitem(app.config, "FILE_STORAGE", "database")
    monkeypatch.setitem(app.config, "RUNGS_DATA_DIR", str(tmp_path / "machine"))  # empty
    target.config["FILE_STORAGE"] = "database"
    publish_and_place(app, [org.pm_a1])
    item_id = record(app, org.pm_a1, title="Held in the database")
    png = samples.image("PNG")
    with app.app_context():
        from app.services import evidence as evidence_service
        from app.services import storage
        from app.services.evidence import attachments

        owner = db.session.get(User, org.pm_a1.id)
        item = evidence_service.get_evidence(item_id)
        added = attachments.add_attachment(owner, item, "chart.png", io.BytesIO(png))
        key = attachments.key_of(added.stored_name)
        storage.put("jobs/held-result.zip", b"PK job result" * 100_000)  # two chunks
        db.session.add(Job(kind="export", result_path="jobs/held-result.zip"))
        db.session.commit()
    archive = tmp_path / "held.zip"
    made = cli(app, "backup", "create", "-o", str(archive))
    assert made.exit_code == 0, made.output
    assert "2 files (2 held in the database copy)" in made.output
    manifest = manifest_of(archive)
    assert manifest["files"] == [] and manifest["missing_files"] == []
    assert [entry["path"] for entry in manifest["database_files"]] == [key, "jobs/held-result.zip"]
    assert manifest["database_files"][0]["sha256"] == hashlib.sha256(png).hexdigest()

    checked = cli(app, "backup", "verify", str(archive))
    assert checked.exit_code == 0, checked.output
    assert "2 files held in the database copy match their SHA-256." in checked.output
    assert "0 files match" not in checked.output

    forged = tmp_path / "forged.zip"
    wrong = json.loads(json.dumps(manifest))
    wrong["database_files"][1]["sha256"] = "0" * 64
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(forged, "w") as out:
        for info in source.infolist():
            if info.filename != "manifest.json":
                out.writestr(info, source.read(info))
        out.writestr("manifest.json", json.dumps(wrong))
    refused = cli(app, "backup", "verify", str(forged))
    assert refused.exit_code == 1
    assert "the file jobs/held-result.zip in the database copy does not match" in refused.output

    restored = cli(target, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        from app.services import storage

        assert storage.read(key) == png
        assert storage.read("jobs/held-result.zip") == b"PK job result" * 100_000
    assert not (Path(target.config["RUNGS_DATA_DIR"]) / "attachments").exists()

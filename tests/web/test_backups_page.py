"""The backups page: the head of product sees the last backup (or that there is none) and the
cron line; nobody else opens it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.infra.sizes import counted, size_label
from app.models import Setting
from app.models.base import utcnow
from app.services.backups import status
from tests.factories import sign_in


def record_backup(
    app, *, days_ago: float, path: str = "/srv/rungs/backups/nightly.zip", **extra
) -> None:
    with app.app_context():
        taken = utcnow() - timedelta(days=days_ago)
        db.session.add(
            Setting(
                key=status.SETTING_KEY,
                value={
                    "taken_at": taken.isoformat(timespec="seconds"),
                    "path": path,
                    "size": 3 * 1024 * 1024,
                    "files": 1234,
                    "rows": 56789,
                    "seconds": 4.2,
                    "missing_files": 0,
                    "database": db.engine.dialect.name,
                    **extra,
                },
            )
        )
        db.session.commit()


@pytest.mark.parametrize("who", ["manager_a", "pm_a1"])
def test_only_the_head_opens_the_backups_page(org, client, who):
    sign_in(client, getattr(org, who))
    assert client.get("/settings/backups").status_code == 403


def test_the_home_page_leads_the_head_there(app, org, client):
    sign_in(client, org.head)
    assert 'href="/settings/backups"' in client.get("/").get_data(as_text=True)
    other = app.test_client()
    sign_in(other, org.manager_a)
    assert 'href="/settings/backups"' not in other.get("/").get_data(as_text=True)


def test_no_backup_yet_is_a_warning_with_the_cron_line(org, client):
    sign_in(client, org.head)
    response = client.get("/settings/backups")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No backup has been taken yet" in page
    assert "flask backup create" in page and "15 2 * * *" in page


def test_a_recent_backup_is_shown_without_a_warning(app, org, client):
    record_backup(app, days_ago=0.5)
    sign_in(client, org.head)
    page = client.get("/settings/backups").get_data(as_text=True)
    assert "/srv/rungs/backups/nightly.zip" in page
    assert "3.0 MB" in page and "56,789 rows" in page and "1,234 files" in page
    assert 'class="notice"' not in page


def test_an_old_backup_is_a_warning(app, org, client):
    record_backup(app, days_ago=3)
    sign_in(client, org.head)
    page = client.get("/settings/backups").get_data(as_text=True)
    assert "The last backup is 3 days old" in page


def test_creating_a_backup_records_it_for_the_page(app, org, client, tmp_path):
    archive = tmp_path / "made.zip"
    made = app.test_cli_runner().invoke(args=["backup", "create", "-o", str(archive)])
    assert made.exit_code == 0, made.output
    sign_in(client, org.head)
    page = client.get("/settings/backups").get_data(as_text=True)
    assert str(Path(archive)) in page and "No backup has been taken yet" not in page


def test_a_restore_records_the_archive_it_came_from(app, org, client, tmp_path):
    archive = tmp_path / "from-the-old-machine.zip"
    archive.write_bytes(b"x" * 2048)
    manifest = {
        "created_at": (utcnow() - timedelta(hours=5)).isoformat(timespec="seconds"),
        "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0].split("+")[0],
        "tables": {"users": {"rows": 7, "sha256": "0" * 64}},
        "files": [{"path": "attachments/ab/abc", "size": 3, "sha256": "0" * 64}],
        "missing_files": [],
    }
    with app.app_context():
        status.record_restore(manifest, archive)
        db.session.commit()
        value = db.session.get(Setting, status.SETTING_KEY).value
    assert value["path"] == str(archive) and value["size"] == 2048 and value["restored_at"]
    sign_in(client, org.head)
    page = client.get("/settings/backups").get_data(as_text=True)
    assert "Restored on" in page and str(archive) in page
    assert 'class="notice"' not in page  # recent, same database kind, nothing missing


@pytest.mark.parametrize(
    ("lost", "deleted", "expected"),
    [
        (1, 0, "1 file the database names was not in the data folder when the backup was taken"),
        (2, 1, "2 files the database names were not in the data folder when the backup was taken"),
    ],
)
def test_missing_files_are_a_warning(app, org, client, lost, deleted, expected):
    record_backup(app, days_ago=0.1, missing_files=lost + deleted, lost_files=lost)
    sign_in(client, org.head)
    page = client.get("/settings/backups").get_data(as_text=True)
    assert 'class="notice"' in page and expected in page
    assert "put them back" in page if lost > 1 else "put it back" in page
    assert "gone before they could be copied" not in page
    assert ("1 file deleted while the backup ran" in page) == bool(deleted)


def test_a_backup_with_only_files_deleted_while_it_ran_is_no_warning(app, org, client):
    record_backup(app, days_ago=0.1, missing_files=3, lost_files=0)
    sign_in(client, org.head)
    page = client.get("/settings/backups").get_data(as_text=True)
    assert 'class="notice"' not in page and "3 files deleted while the backup ran" in page


def test_one_row_and_one_file_are_singular(app, org, client):
    record_backup(app, days_ago=0.1, rows=1, files=1)
    sign_in(client, org.head)
    assert "1 row, 1 file<" in client.get("/settings/backups").get_data(as_text=True)


def test_a_backup_of_the_other_database_kind_is_a_warning(app, org, client):
    with app.app_context():
        running = db.engine.dialect.name
    other = "sqlite" if running == "postgresql" else "postgresql"
    record_backup(app, days_ago=0.1, database=other)
    sign_in(client, org.head)
    page = client.get("/settings/backups").get_data(as_text=True)
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    assert f"taken on {names[other]}, before the move to {names[running]}" in page
    assert "Take a new backup now" in page


def test_sizes_and_counts_read_as_on_the_attachments():
    """One rule for the Backups page, the command line and the attachments' `file_size`."""
    assert [size_label(n) for n in (0, 1023, 1024, 176_247, 3 * 1024 * 1024)] == [
        "0 bytes",
        "1023 bytes",
        "1 KB",
        "172 KB",
        "3.0 MB",
    ]
    assert (counted(1, "file"), counted(0, "file"), counted(1234, "row")) == (
        "1 file",
        "0 files",
        "1,234 rows",
    )

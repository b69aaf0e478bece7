"""The backups page: the head of product sees the last backup (or that there is none) and the
cron line; nobody else opens it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Setting
from app.models.base import utcnow
from app.services.backups import status
from tests.factories import sign_in


def record_backup(app, *, days_ago: float, path: str = "/srv/rungs/backups/nightly.zip") -> None:
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

"""`flask backup ...`: create, verify and restore backup archives (database and files)."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db, migrate
from app.infra.sizes import counted, size_label
from app.services import backups
from app.services.database import inventory

backup_cli = AppGroup("backup", help="Backups of the database and its files.")


def _data_dir() -> Path:
    return Path(current_app.config["RUNGS_DATA_DIR"])


@backup_cli.command("create")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The archive to write, "
    "never over an existing file (default: RUNGS_DATA_DIR/backups/rungs-backup-<UTC time>Z-"
    "<random>.zip).",
)  # fmt: skip
def create_cmd(output: Path | None):
    """Write one archive: a consistent copy of the database, its files and a manifest."""
    try:
        created = backups.create(db.engine, _data_dir(), output)
    except backups.BackupError as error:
        raise click.ClickException(error.message) from None
    backups.record(created)
    db.session.commit()
    manifest = created.manifest
    click.echo(f"Wrote {created.path}: {_size(created.size)}, mode 0600.")
    click.echo(
        f"  {manifest['database']} at revision {manifest['schema_revision']}: "
        f"{len(manifest['tables'])} tables, {counted(created.rows, 'row')}; "
        f"{counted(len(manifest['files']) + len(manifest['database_files']), 'file')}"
        f"{_held(manifest)}, {_size(created.file_bytes)}; "
        f"{created.seconds:.2f} s."
    )
    _print_missing(manifest["missing_files"], created.damaged)
    if created.damaged:
        raise click.ClickException(_lost_message(created.damaged))


def _held(manifest: dict) -> str:
    """How many of the files travel inside the database copy (RUNGS_FILE_STORAGE=database)."""
    held = len(manifest.get("database_files", []))
    return f" ({held:,} held in the database copy)" if held else ""


def _size(size: int) -> str:
    return f"{size_label(size)} ({size:,} bytes)" if size >= 1024 else size_label(size)


def _print_missing(missing: list[dict], damaged: list[str]) -> None:
    for entry in missing:
        if entry["path"] in damaged:
            click.echo(f"  missing from the data folder, the database names it: {entry['path']}")
        elif entry["reason"] == "not in the data folder":
            click.echo(
                f"  not in the archive: {entry['path']} (deleted after the snapshot, "
                "as when evidence is emptied from the trash: nothing to do)"
            )
        else:
            click.echo(f"  not in the archive: {entry['path']} ({entry['reason']})")


def _lost_message(damaged: list[str]) -> str:
    one = len(damaged) == 1
    which = damaged[0] if one else f"first: {damaged[0]}"
    return (
        f"{counted(len(damaged), 'file')} the database names {'was' if one else 'were'} not in "
        f"the data folder when the backup was taken ({which}). The archive holds everything "
        f"else and is recorded as the last backup. Put {'it' if one else 'them'} back from an "
        "older backup (`flask backup verify` on it lists what it holds; the files are under "
        "files/ in the ZIP), then take a new backup."
    )


@backup_cli.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
def verify_cmd(file: Path):
    """Check an archive without restoring it: manifest, file hashes, database counts."""
    try:
        checked = backups.verify(file, db.engine)
    except backups.BackupError as error:
        raise click.ClickException(error.message) from None
    manifest = checked.manifest
    held = len(manifest.get("database_files", []))
    summary = (
        f"{file}: taken {manifest['created_at']}, {manifest['database']} at revision "
        f"{manifest['schema_revision']}"
    )
    # "0 files match" beside files the database holds would read as a fault.
    if manifest["files"] or not held:
        summary += f"; {len(manifest['files']):,} files match their SHA-256"
    click.echo(summary + ".")
    if held and checked.tables is not None:
        click.echo(f"  {held:,} files held in the database copy match their SHA-256.")
    if checked.tables is not None:
        _print_tables(manifest["tables"], checked.tables)
    for note in checked.notes:
        click.echo(f"  {note}")
    click.echo("OK")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Replace existing data, after writing a backup of it aside."
)
def restore_cmd(file: Path, replace: bool):
    """Restore an archive into an empty database and data folder, then upgrade its schema."""
    script = ScriptDirectory.from_config(migrate.get_config())
    db.session.remove()
    try:
        restored = backups.restore(db.engine, _data_dir(), file, script, replace=replace)
    except backups.BackupError as error:
        raise click.ClickException(error.message) from None
    if restored.kept_aside:
        click.echo(
            f"The data that was here is kept in {restored.kept_aside}: "
            f"`flask backup restore {restored.kept_archive} --replace` puts it back; its folders "
            "hold every file that was in the data folder, named by a row or not."
        )
    click.echo(f"Restored {file}: {restored.files:,} files; the database equals the manifest:")
    _print_tables(restored.manifest["tables"], restored.tables)
    if restored.upgraded_from:
        _upgrade(file, restored.upgraded_from, script.get_current_head())
    backups.status.record_restore(restored.manifest, file)  # the page: restored from this archive
    db.session.commit()
    click.echo("Restart Rungs and its workers now: they must not go on from the old data.")


def _upgrade(file: Path, from_revision: str, head: str) -> None:
    """Migrate the restored database to the code's revision; when that fails, say that the
    data is restored, at which revision, and what to run (never a traceback)."""
    try:
        command.upgrade(migrate.get_config(), "head")
    # A migration may fail in any way (its own checks, the database, the disk); the data is in
    # place all the same, and the operator must learn where things stand, not read a traceback.
    except Exception as error:
        db.session.rollback()
        with db.engine.connect() as connection:
            now_at = inventory.schema_revision(connection)
        raise click.ClickException(
            f"The archive is restored, but upgrading its schema from {from_revision} to {head} "
            f"failed: {error}. The database holds the archive's data at revision {now_at} (the "
            "upgrade runs in one transaction and was undone); Rungs will not run on it until "
            "it is upgraded. Fix the cause, then run `flask db upgrade`; or start again with "
            f"`flask backup restore {file} --replace`."
        ) from None
    click.echo(f"Upgraded the schema from {from_revision} to {head}.")


def _print_tables(expected: dict, found: dict) -> None:
    for name, summary in found.items():
        click.echo(f"  {name:<32} {summary.rows:>9,} rows  {summary.sha256[:16]}  ok")
    click.echo(f"  {len(found)} tables, {sum(s.rows for s in found.values()):,} rows")

"""`flask backup ...`: create, verify and restore backup archives (database and files)."""

from __future__ import annotations

from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from app.extensions import db, migrate
from app.services import backups

backup_cli = AppGroup("backup", help="Backups of the database and its files.")


def _data_dir() -> Path:
    return Path(current_app.config["RUNGS_DATA_DIR"])


@backup_cli.command("create")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The archive to write "
    "(default: RUNGS_DATA_DIR/backups/rungs-backup-<UTC time>.zip).",
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
    click.echo(f"Wrote {created.path} ({created.size:,} bytes, mode 0600).")
    click.echo(
        f"  {manifest['database']} at revision {manifest['schema_revision']}: "
        f"{len(manifest['tables'])} tables, {created.rows:,} rows; "
        f"{len(manifest['files']):,} files, {created.file_bytes:,} bytes; "
        f"{created.seconds:.2f} s."
    )
    for missing in manifest["missing_files"]:
        click.echo(f"  not in the archive: {missing['path']} ({missing['reason']})")
    if created.damaged:
        raise click.ClickException(
            f"{len(created.damaged)} files the database still refers to are missing from the "
            f"data folder (first: {created.damaged[0]}). The archive holds everything else."
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
    click.echo(
        f"{file}: taken {manifest['created_at']}, {manifest['database']} at revision "
        f"{manifest['schema_revision']}; {len(manifest['files']):,} files match their SHA-256."
    )
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
        click.echo(f"The data that was here is kept in {restored.kept_aside}.")
    click.echo(f"Restored {file}: {restored.files:,} files; the database equals the manifest:")
    _print_tables(restored.manifest["tables"], restored.tables)
    if restored.upgraded_from:
        upgrade()
        click.echo(
            f"Upgraded the schema from {restored.upgraded_from} to {script.get_current_head()}."
        )


def _print_tables(expected: dict, found: dict) -> None:
    for name, summary in found.items():
        click.echo(f"  {name:<32} {summary.rows:>9,} rows  {summary.sha256[:16]}  ok")
    click.echo(f"  {len(found)} tables, {sum(s.rows for s in found.values()):,} rows")

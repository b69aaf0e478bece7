"""Command-line interface: `flask demo ...` and `flask people ...`; it calls services only."""

from __future__ import annotations

import shutil

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup

from app import demo
from app.backups.cli import backup_cli
from app.core.errors import DomainError, RowErrors
from app.extensions import db
from app.jobs.cli import jobs_cli
from app.messages.cli import messages_cli, reminders_cli
from app.models.user import ROLE_LABELS
from app.move.cli import register as register_move
from app.packets.cli import packets_cli
from app.policy import SYSTEM
from app.services import evidence as evidence_service
from app.services import people, storage, stored_markdown
from app.services.frameworks import files, store
from app.services.frameworks import pdf as framework_pdf
from app.services.frameworks.document import InvalidFrameworkError, shown_errors
from app.services.people import auth, two_factor_account
from app.services.people import importing as people_import
from app.sso.cli import sso_cli


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(people_cli)
    app.cli.add_command(frameworks_cli)
    app.cli.add_command(evidence_cli)
    app.cli.add_command(markdown_cli)
    app.cli.add_command(packets_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(messages_cli)
    app.cli.add_command(sso_cli)
    app.cli.add_command(files_cli)
    register_move(app)


demo_cli = AppGroup("demo", help="The demo organisation.")


@demo_cli.command("load")
@click.option("--force", is_flag=True, help="Add the demo people even if others exist already.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Load only into an empty database; otherwise do nothing and exit 0.",
)
def demo_load(force: bool, if_empty: bool):
    """Create the demo organisation: a head of product, 3 managers, 13 PMs and mentors."""
    if demo.has_people() and not force:
        if not if_empty:
            raise click.ClickException(
                "The database already has people. Use --force to add the demo people "
                "next to them (existing people are never changed)."
            )
        click.echo("The database already has people; the demo organisation was not loaded.")
    else:
        created = demo.load()
        db.session.commit()
        click.echo(f"Loaded the demo organisation ({len(created)} people added).")
    _print_sign_ins()


def _print_sign_ins() -> None:
    sign_ins = demo.sign_ins()
    if not sign_ins:
        return
    click.echo(f"\nDemo sign-ins (password for all: {demo.DEMO_PASSWORD}):")
    for sign_in in sign_ins:
        click.echo(f"  {ROLE_LABELS[sign_in.role]:<16} {sign_in.email:<32} {sign_in.name}")


people_cli = AppGroup("people", help="People in the organisation.")


@people_cli.command("import")
@click.argument("file", type=click.File("rb"))
def people_import_cmd(file):
    """Import people from a CSV file (email,name,role,manager_email); all rows or none."""
    try:
        created = people_import.import_people(SYSTEM, file.read())
    except RowErrors as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        for line in error.errors:
            click.echo(f"  {line}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Imported {len(created)} people.")


@people_cli.command("password-link")
@click.argument("email")
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where people reach Rungs, to build the full link.",
)
def password_link(email: str, base_url: str):
    """Print a one-time link with which a person sets their password."""
    person = people.find_by_email(email)
    if person is None:
        raise click.ClickException(f"Nobody in Rungs uses {email}.")
    try:
        token = auth.create_reset_link(SYSTEM, person)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    with current_app.test_request_context(base_url=base_url):
        click.echo(url_for("auth.set_password", token=token, _external=True))


@people_cli.command("reset-two-factor")
@click.argument("email")
def reset_two_factor(email: str):
    """Turn off a person's two-factor sign-in (lost phone and recovery codes); audited."""
    person = people.find_by_email(email)
    if person is None:
        raise click.ClickException(f"Nobody in Rungs uses {email}.")
    try:
        two_factor_account.reset(SYSTEM, person)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(
        f"Two-factor sign-in of {person.name} is off; they were signed out everywhere and "
        "their API tokens were revoked."
    )


frameworks_cli = AppGroup("frameworks", help="Career frameworks: validate, import, export, list.")


def _print_problems(report, *, err: bool = True) -> None:
    errors, more = shown_errors(report)
    for problem in errors:
        click.echo(f"error: {problem}", err=err)
    if more:
        click.echo(f"… and {more} more error{'s' if more != 1 else ''}.", err=err)
    for problem in report.warnings:
        click.echo(f"warning: {problem}", err=err)


def _read_framework(file, fmt: str | None):
    data = file.read()
    try:
        fmt = fmt or files.detect_format(file.name, data)
        text = files.decode(data)
        doc, report = files.validate(text, fmt, filename=file.name)
    except InvalidFrameworkError as error:
        _print_problems(error.report)
        raise click.ClickException(f"{file.name}: {error.message}") from None
    return fmt, text, doc, report


FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(files.FORMATS),
    help="The file's format (default: from its name: .csv → csv, .md → monzo, .yaml → yaml; "
    "else from its first lines).",
)


@frameworks_cli.command("validate")
@click.argument("file", type=click.File("rb"))
@FORMAT_OPTION
def frameworks_validate(file, fmt):
    """Check a framework file and list its errors and warnings; changes nothing."""
    _fmt, _text, doc, report = _read_framework(file, fmt)
    _print_problems(report, err=False)
    levels, competencies = len(doc.levels()), len(doc.competencies())
    click.echo(
        f"{file.name}: valid ({levels} levels, {competencies} competencies, "
        f"{len(report.warnings)} warnings)."
    )


@frameworks_cli.command("import")
@click.argument("file", type=click.File("rb"))
@FORMAT_OPTION
@click.option("--publish", is_flag=True, help="Publish the new version at once.")
@click.option("--changelog", default="", help="What changed, for the version history.")
def frameworks_import(file, fmt, publish, changelog):
    """Import a framework file as a new draft version (of a new or existing framework)."""
    fmt, text, _doc, _report = _read_framework(file, fmt)
    try:
        imported = files.import_text(
            SYSTEM, text, fmt, filename=file.name, publish=publish, changelog=changelog
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    _print_problems(imported.report, err=False)
    version = imported.version
    state = "a draft" if version.is_draft else version.status.value
    if not imported.is_new:
        click.echo(
            f"{file.name} is identical to version {version.number} of {version.name} ({state}), "
            "so no new draft was made."
        )
        return
    click.echo(f"Imported {version.name} as version {version.number} ({state}).")


@frameworks_cli.command("export")
@click.argument("slug")
@click.option("--version", "number", type=int, help="Version number (default: the published one).")
@click.option(
    "--format", "fmt", type=click.Choice(files.EXPORT_FORMATS), default="yaml", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write to this file instead of the screen.",
)
def frameworks_export(slug, number, fmt, output):
    """Write a framework version as YAML or CSV."""
    try:
        version = store.find_version(slug, number)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    output.write(files.export(version.id, fmt))


@frameworks_cli.command("list")
def frameworks_list():
    """List the frameworks and their versions."""
    rows = store.list_frameworks()
    if not rows:
        click.echo("No frameworks yet. Import one: flask frameworks import FILE")
    for framework, versions in rows:
        click.echo(f"{framework.slug}  {framework.name}")
        for version in versions:
            note = version.changelog.splitlines()[0] if version.changelog else ""
            click.echo(
                f"  v{version.number}  {version.status.value:<9}  "
                f"{version.created_at:%Y-%m-%d}  {note}"
            )


@frameworks_cli.command("pdf")
@click.argument("slug")
@click.option("--version", "number", type=int, help="Version number (default: the published one).")
@click.option("-o", "--output", type=click.File("wb"), required=True, help="The PDF file to write.")
def frameworks_pdf(slug, number, output):
    """Write a framework version as a PDF."""
    try:
        version = store.find_version(slug, number)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    with storage.open(framework_pdf.version_pdf(version)) as pdf:
        shutil.copyfileobj(pdf, output)
    click.echo(f"Wrote {version.name} version {version.number} to {output.name}.")


files_cli = AppGroup("files", help="Stored files: attachments, packets, cached PDFs, job results.")


@files_cli.command("copy-into-database")
def files_copy_into_database():
    """Copy every file of RUNGS_DATA_DIR into the database, before RUNGS_FILE_STORAGE=database.

    Files the database holds already are skipped, so it can run again; the folder is left as it
    is (remove it once Rungs runs with the new setting)."""
    copied, skipped = storage.copy_local_into_database(on_file=lambda key: click.echo(f"  {key}"))
    click.echo(
        f"Copied {copied:,} files into the database ({skipped:,} were there already). "
        "Now set RUNGS_FILE_STORAGE=database and restart Rungs and its workers."
    )


evidence_cli = AppGroup("evidence", help="Evidence items.")


@evidence_cli.command("purge-trash")
def evidence_purge_trash():
    """Delete for good the evidence that has been in the Trash for more than 30 days."""
    purged = evidence_service.purge_trash()
    db.session.commit()
    click.echo(f"Deleted {purged} item{'' if purged == 1 else 's'} from the Trash for good.")


markdown_cli = AppGroup("markdown", help="Markdown fields and the HTML stored beside them.")


@markdown_cli.command("refresh")
def markdown_refresh():
    """Store again the HTML of text that an earlier renderer made (after an upgrade; until then
    pages render such text each time they show it)."""
    refreshed = stored_markdown.refresh()
    db.session.commit()
    click.echo(f"Stored the HTML of {refreshed} row{'' if refreshed == 1 else 's'} again.")

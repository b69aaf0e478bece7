"""`flask packets ...`: render a case's packet to a file; export a cycle's packets as a ZIP."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import AppGroup

from app.core.errors import DomainError
from app.extensions import db
from app.models import PacketView
from app.policy import SYSTEM
from app.services import packets
from app.services.packets import jobs as packet_jobs

packets_cli = AppGroup("packets", help="Promotion packets.")


@packets_cli.command("render")
@click.argument("case_id", type=int)
@click.option(
    "-o", "--output", "output", type=click.File("wb"), required=True, help="The PDF file."
)
@click.option(
    "--view",
    type=click.Choice([view.value for view in PacketView]),
    default=PacketView.COMMITTEE.value,
    show_default=True,
    help="Committee (everything) or candidate (no votes, voters or committee notes).",
)
def render_cmd(case_id: int, output, view: str):
    """Render the packet of case CASE_ID as of its data now, without storing it."""
    try:
        data = packets.assemble(case_id, view)
    except DomainError as error:
        raise click.ClickException(f"Case {case_id}: {error.message}") from None
    document = packets.html(data)
    db.session.commit()  # hold no database lock while WeasyPrint works (see packets.generate)
    pdf, pages = packets.render_html(document)
    output.write(pdf)
    click.echo(
        f"Wrote the {view} packet of case {case_id}: {pages} pages, {len(pdf):,} bytes, "
        f"data version {packets.data_version(data)[:16]}."
    )


@packets_cli.command("export")
@click.argument("cycle_id", type=int)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path),
    required=True,
    help="The ZIP file.",
)
@click.option(
    "--view",
    type=click.Choice([view.value for view in PacketView]),
    default=PacketView.COMMITTEE.value,
    show_default=True,
    help="Committee (everything) or candidate (no votes, voters or committee notes).",
)
def export_cmd(cycle_id: int, output: Path, view: str):
    """Write the packet of every case of cycle CYCLE_ID that was not withdrawn into one ZIP file.

    Packets whose data has not changed are taken from the record; the others are rendered and
    stored (as the operator, in the audit log). Runs here, not as a background job."""
    target = output.resolve()
    if target.is_dir() or not target.parent.is_dir() or not os.access(target.parent, os.W_OK):
        raise click.ClickException(
            f"Cannot write {output}: give a file in a folder that exists and is writable."
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise click.ClickException(f"Cannot write {output}: the file is read-only.")

    def report(_percent: int, message: str) -> None:
        click.echo(message, err=True)

    try:
        written = packet_jobs.write_zip(SYSTEM, cycle_id, view, target, report)
    except DomainError as error:
        raise click.ClickException(f"Cycle {cycle_id}: {error.message}") from None
    click.echo(
        f"Wrote {len(written.names)} {view} packets of {written.cycle_name} "
        f"({written.made} rendered now) to {output}."
    )

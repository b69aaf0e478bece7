"""`flask packets ...`: render a case's packet to a file."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.models import PacketView
from app.services import packets
from app.services.errors import DomainError

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
    pdf, pages = packets.render_html(packets.html(data))
    output.write(pdf)
    click.echo(
        f"Wrote the {view} packet of case {case_id}: {pages} pages, {len(pdf):,} bytes, "
        f"data version {packets.data_version(data)[:16]}."
    )

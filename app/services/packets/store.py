"""Packets on record: one file and one row per (case, view, data version), never made twice.

Files are stored (app/services/storage.py) under packets/<case id>/<view>-<data version>.pdf, the
row's `file_path`. Generating and downloading are in the audit log.
"""

from __future__ import annotations

import hashlib
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.errors import NotFoundError
from app.extensions import db
from app.models import Packet, PacketView, PromotionCase, User
from app.services import audit, storage
from app.services.frameworks.keys import slugify
from app.services.packets import access
from app.services.packets.assembly import assemble
from app.services.packets.rendering import data_version, html, render_html

FOLDER = "packets"


def generate(actor: Any, case_id: int, view: PacketView | str) -> Packet:
    """The packet of the case's current data in this view: the stored one when the data has not
    changed since, otherwise a new render on record. Flushes; the caller commits.

    The render takes seconds, so the transaction that read the data is committed before it: on
    SQLite every transaction holds the write lock (BEGIN IMMEDIATE), and a render inside one
    made the web requests of everyone else wait (bench/packets.py measured it)."""
    view = PacketView(view)
    access.authorize(actor, case_id, view)
    data = assemble(case_id, view)
    version = data_version(data)
    packet = _stored(case_id, view, version)
    if packet is not None and storage.exists(packet.file_path):
        return packet
    document = html(data)
    db.session.commit()
    pdf, pages = render_html(document)
    key = f"{FOLDER}/{case_id}/{view.value}-{version[:24]}.pdf"
    storage.put(key, pdf)
    if packet is not None:  # the row outlived its file: the same data gives the same bytes
        return packet
    packet = Packet(
        case_id=case_id,
        view=view,
        data_version=version,
        content_hash=hashlib.sha256(pdf).hexdigest(),
        file_path=key,
        size=len(pdf),
        pages=pages,
        generated_by_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(packet)
    except IntegrityError:  # another job stored the same version meanwhile
        return _stored(case_id, view, version)
    audit.record(actor if getattr(actor, "id", None) else None, "packet.generated", packet)
    return packet


def versions(actor: Any, case_id: int) -> list[Packet]:
    """The case's packets the actor may download, newest first."""
    case = db.session.get(PromotionCase, case_id)
    if case is None:
        return []
    allowed = access.views_for(actor, case)
    return list(
        db.session.scalars(
            select(Packet)
            .where(Packet.case_id == case_id, Packet.view.in_(allowed))
            .order_by(Packet.generated_at.desc(), Packet.id.desc())
        )
    )


def download(actor: Any, packet_id: int) -> tuple[Packet, BinaryIO]:
    """A stored packet and its file, opened for reading, for whoever may have its view;
    audited."""
    packet = db.session.get(Packet, packet_id)
    if packet is None:
        raise NotFoundError("Not found.")
    access.authorize(actor, packet.case_id, packet.view)
    try:
        file = storage.open(packet.file_path)
    except storage.MissingFileError:
        raise NotFoundError("This packet's file is missing; generate it again.") from None
    audit.record(actor if getattr(actor, "id", None) else None, "packet.downloaded", packet)
    return packet, file


def download_name(packet: Packet) -> str:
    """'<candidate>-<view>-<data version>.pdf': as the packet is named in a cycle's ZIP, and
    the version tells two downloads of changed data apart."""
    name = db.session.scalar(
        select(User.name)
        .join(PromotionCase, PromotionCase.candidate_id == User.id)
        .where(PromotionCase.id == packet.case_id)
    )
    person = slugify(name or "", "candidate")
    return f"{person}-{packet.view.value}-{packet.data_version[:8]}.pdf"


def _stored(case_id: int, view: PacketView, version: str) -> Packet | None:
    return db.session.execute(
        select(Packet).where(
            Packet.case_id == case_id, Packet.view == view, Packet.data_version == version
        )
    ).scalar_one_or_none()

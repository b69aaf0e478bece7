"""Opening a pair's 1:1 space, its cadence and its meetings."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, or_, select

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.infra import timezones
from app.models import Cadence, Meeting, OneOnOne, PairKind, User
from app.models.base import utcnow
from app.services import audit

DURATIONS = (15, 30, 45, 60, 90)
# A meeting more than this far from today is a typing mistake (a year of 2062).
FAR = timedelta(days=2 * 366)
STEPS = {
    Cadence.WEEKLY: relativedelta(weeks=1),
    Cadence.FORTNIGHTLY: relativedelta(weeks=2),
    Cadence.MONTHLY: relativedelta(months=1),
}


def get_pair(actor: User, pair_id: int) -> OneOnOne:
    """The pair if the actor is one of the two; else 404 (nobody else learns it exists)."""
    pair = db.session.get(OneOnOne, pair_id)
    if pair is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "oneonone.view", pair)
    return pair


def get_meeting(actor: User, meeting_id: int) -> tuple[Meeting, OneOnOne]:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError("Not found.")
    return meeting, get_pair(actor, meeting.one_on_one_id)


def pair_kind(actor: User, person: User) -> PairKind:
    return PairKind.MANAGER if person.manager_id == actor.id else PairKind.MENTOR


def open_space(actor: User, person_id: int) -> OneOnOne:
    """Start 1:1s with a direct report or a mentee (oneonone.open): one space per pair, so a
    second start opens the one that exists."""
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "oneonone.open", person)
    existing = space_between(actor.id, person.id)
    if existing is not None:  # whoever leads it: the two have one space
        return existing
    if person.deactivated_at is not None:
        raise ValidationError(f"{person.name} no longer works here: 1:1s cannot start.")
    pair = OneOnOne(lead_id=actor.id, member_id=person.id, kind=pair_kind(actor, person))
    db.session.add(pair)
    db.session.flush()
    audit.record(actor, "oneonone.opened", pair, after={"member_id": person.id})
    return pair


def between(one_id: int, other_id: int):
    """The condition for the two people's space, whoever leads it."""
    return or_(
        and_(OneOnOne.lead_id == one_id, OneOnOne.member_id == other_id),
        and_(OneOnOne.lead_id == other_id, OneOnOne.member_id == one_id),
    )


def space_between(one_id: int, other_id: int) -> OneOnOne | None:
    """The two people's space, whoever leads it; the oldest should there ever be two."""
    return (
        db.session.execute(
            select(OneOnOne).where(between(one_id, other_id)).order_by(OneOnOne.id).limit(1)
        )
        .scalars()
        .first()
    )


def set_cadence(
    actor: User, pair: OneOnOne, cadence: str, *, expected_revision: int | None = None
) -> OneOnOne:
    """`expected_revision`: the pair's revision when the form was shown; if the other changed
    the cadence meanwhile, ConflictError with both values and nothing changed."""
    policy.authorize(actor, "oneonone.write", pair)
    try:
        wanted = Cadence(cadence)
    except ValueError:
        raise ValidationError("Choose how often you meet.", field="cadence") from None
    if expected_revision is not None and expected_revision != pair.revision:
        raise ConflictError(
            f"The cadence was changed to “{pair.cadence.label}” meanwhile; you chose "
            f"“{wanted.label}”. Nothing was changed: choose again.",
            current={"cadence": pair.cadence.value, "revision": pair.revision},
        )
    before = pair.cadence.value
    if wanted != pair.cadence:
        pair.cadence = wanted
        db.session.flush()
        audit.record(
            actor,
            "oneonone.cadence_changed",
            pair,
            before={"cadence": before},
            after={"cadence": wanted.value},
        )
    return pair


def add_meeting(
    actor: User, pair: OneOnOne, starts_at: datetime | None, duration_minutes: int | None
) -> Meeting:
    """A meeting at `starts_at` (UTC). Rungs writes to no calendar: the page offers an .ics."""
    policy.authorize(actor, "oneonone.write", pair)
    starts_at = meeting_time(starts_at, duration_minutes, zone=actor.time_zone)
    clash = db.session.execute(
        select(Meeting.id).where(Meeting.one_on_one_id == pair.id, Meeting.starts_at == starts_at)
    ).first()
    if clash:
        raise ValidationError("There is already a meeting at that time.", field="starts_at")
    meeting = Meeting(
        one_on_one_id=pair.id,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        created_by_id=actor.id,
    )
    db.session.add(meeting)
    db.session.flush()
    audit.record(
        actor,
        "meeting.created",
        meeting,
        after={"starts_at": starts_at.isoformat(), "duration_minutes": duration_minutes},
    )
    return meeting


def meeting_time(
    starts_at: datetime | None, duration_minutes: int | None, *, zone: str | None = None
) -> datetime:
    """The start in UTC of a meeting anyone may add (here or by an import), or ValidationError:
    within two years of today, and one of DURATIONS long. A time without a zone (typed in a
    form) is read in `zone`, the typist's own (UTC when None)."""
    if starts_at is None:
        raise ValidationError("Enter the date and time of the meeting.", field="starts_at")
    if starts_at.tzinfo is None and zone:
        try:
            starts_at = timezones.to_utc(starts_at, zone)
        except ValueError as error:  # a time the clocks skip there
            raise ValidationError(str(error), field="starts_at") from None
    try:
        starts_at = starts_at.astimezone(UTC) if starts_at.tzinfo else starts_at.replace(tzinfo=UTC)
        far = abs(starts_at - utcnow()) > FAR
    except OverflowError:  # 0001-01-01T00:30+01:00 is before the first representable moment
        far = True
    if far:
        raise ValidationError("Choose a date within two years of today.", field="starts_at")
    if duration_minutes not in DURATIONS:
        raise ValidationError("Choose how long the meeting is.", field="duration_minutes")
    return starts_at


def propose_next(cadence: Cadence, latest: datetime | None, now: datetime) -> datetime | None:
    """The next meeting the cadence proposes: one step after the latest meeting, stepped on
    past today if the pair has missed some; with no meeting yet (or only one further than two
    years from today, which no date can make overflow), the next working day at 09:00 UTC. A
    proposal never falls on a weekend: it moves on to the Monday."""
    step = STEPS.get(cadence)
    if step is None:
        return None
    if latest is None or abs(latest - now) > FAR:  # a stored date far off proposes afresh
        return _working_day(datetime.combine(now.date() + timedelta(days=1), time(9), tzinfo=UTC))
    proposed = latest + step
    while proposed <= now:
        proposed += step
    return _working_day(proposed)


def _working_day(moment: datetime) -> datetime:
    """The moment, or the same time on the Monday after when it falls on a Saturday or Sunday."""
    weekend = moment.weekday() - 4  # Saturday 1, Sunday 2
    return moment + timedelta(days=3 - weekend) if weekend > 0 else moment

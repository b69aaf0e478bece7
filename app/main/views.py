"""Home: who you are, your manager and mentors, your reports; the organisation for the head."""

from flask import Blueprint, render_template
from flask_login import current_user

from app import access
from app.services import people
from app.services.frameworks import ladder

bp = Blueprint("main", __name__)


@bp.route("/")
@access.requires("home.view")
def home():
    """The signed-in person's home page, shaped by their role."""
    person = people.get_person(current_user.id)
    summary = people.organisation_summary() if person.is_head else None
    placement = ladder.placement(person.level_id)
    return render_template("main/home.html", person=person, summary=summary, placement=placement)

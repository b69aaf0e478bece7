"""Home: who you are, your manager and mentors, your reports; the organisation for the head."""

from flask import Blueprint, render_template
from flask_login import current_user

from app import access
from app.services.people import pages as people_pages

bp = Blueprint("main", __name__)


@bp.route("/")
@access.requires("home.view")
def home():
    """The signed-in person's home page, shaped by their role."""
    page = people_pages.home_page(current_user._get_current_object())
    return render_template("main/home.html", page=page)

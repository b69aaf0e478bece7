"""Home: who you are, your manager and mentors, your reports; the organisation for the head."""

from flask import Blueprint, render_template
from flask_login import current_user

from app import access
from app.request_input import page_number
from app.services.people import pages as people_pages
from app.services.todo import pages as todo_pages

bp = Blueprint("main", __name__)


@bp.route("/")
@access.requires("home.view")
def home():
    """The signed-in person's home page, shaped by their role."""
    page = people_pages.home_page(current_user._get_current_object())
    return render_template("main/home.html", page=page)


@bp.route("/todo")
@access.requires("home.view")
def todo():
    """Everything the signed-in person must do now, most urgent first."""
    page = todo_pages.todo_page(current_user._get_current_object(), page_number())
    return render_template("todo/index.html", page=page)

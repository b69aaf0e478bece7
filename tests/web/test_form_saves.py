"""The one shape of a form view (app.forms.submit) when two saves meet at the same moment."""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError

from app.forms import SAVED_AT_THE_SAME_MOMENT, submit


def test_two_saves_at_the_same_moment_answer_a_conflict_not_an_error(app):
    """A revision that moved between reading and writing (StaleDataError) used to reach the
    500 page; the person now gets their form back with a 409 and a message saying nothing
    was stored."""
    shown = []

    def save():
        raise StaleDataError("UPDATE statement on table 'goals' expected to update 1 row(s)")

    def page(status, error=None):
        shown.append((status, error, list(form.form_errors)))
        return "page", status

    csrf = app.config.get("WTF_CSRF_ENABLED", True)
    with app.test_request_context("/", method="POST", data={}):
        app.config["WTF_CSRF_ENABLED"] = False
        try:
            form = FlaskForm()
            answer = submit(form, save, page=page, done=lambda result: "done")
        finally:
            app.config["WTF_CSRF_ENABLED"] = csrf
    assert answer == ("page", 409)
    assert shown == [(409, None, [SAVED_AT_THE_SAME_MOMENT])]

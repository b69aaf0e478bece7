"""The select widget that writes its options directly gives WTForms' own HTML (app/forms.py)."""

from __future__ import annotations

import pytest
from wtforms import Form, SelectField, widgets
from wtforms.fields.choices import SelectChoice

from app.forms import Select

CHOICES = [
    SelectChoice("", "Any competency"),
    SelectChoice("a&b", 'Discovery "deep" <dives>', optgroup="Craft & <b>"),
    SelectChoice("x", "", optgroup="Craft & <b>"),
    SelectChoice("y", "With data", render_kw={"data_note": "1"}, optgroup="People"),
    SelectChoice(True, "Yes", optgroup="People"),
]


class Filters(Form):
    fast = SelectField("Fast", choices=CHOICES, widget=Select())
    plain = SelectField("Plain", choices=CHOICES, widget=widgets.Select())


@pytest.mark.parametrize("chosen", ["", "a&b", "x", "y", "True", "missing"])
def test_the_same_html_as_wtforms_select(chosen):
    form = Filters(data={"fast": chosen, "plain": chosen})
    fast = form.fast(**{"aria-invalid": "true"})
    plain = form.plain(**{"aria-invalid": "true"})
    assert str(fast).replace('"fast"', '"plain"') == str(plain)
    assert "<b>" not in fast and "&lt;dives&gt;" in fast

"""Initials for the avatars beside people's names (app/infra/names.py)."""

from __future__ import annotations

import pytest

from app.infra.names import initials


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Lena Fischer", "LF"),
        ("Daniel Brandt", "DB"),
        ("Maria José García López", "ML"),  # first and last
        ("Cher", "C"),  # one word: one letter
        ("Ludwig van Beethoven", "LB"),  # lower-case particles are skipped
        ("Leonardo da Vinci", "LV"),
        ("Juan de la Cruz", "JC"),
        ("lena fischer", "LF"),  # all lower case: nothing is a particle
        ("Zoë éclair", "ZÉ"),
        ("Tomás Vidal", "TV"),
        ("Ólafur Arnalds", "ÓA"),
        ("Zoe\u0301 Smith", "ZS"),  # decomposed accents are composed first
        ("Ze\u0301lie", "Z"),
        ("\u00e9mile Zola", "ÉZ"),
        ("(Lena) 'Fischer'", "LF"),  # brackets and quotes are not initials
        ("O'Brien", "O"),
        ("Anne-Marie Dupont", "AD"),
        ("  Lena   Fischer  ", "LF"),
        ("ßtraße Ölmann", "ßÖ"),  # ß stays one character (its upper case is "SS")
        ("李小龙", "李"),  # no spaces: the first character
        ("山田 太郎", "山太"),
        ("محمد بن سلمان", "مس"),  # Arabic has no case: "bin" counts as a word
        ("Иван Петров", "ИП"),
        ("김 민준", "김민"),
        ("Lena —", "L"),  # a word without letters is skipped
        ("🙂", "🙂"),  # only symbols: the first one
        ("", "?"),
        ("   ", "?"),
        (None, "?"),
    ],
)
def test_initials(name, expected):
    assert initials(name) == expected


def test_initials_are_at_most_two_letters_with_their_marks():
    long_name = " ".join(["Anna"] * 50 + ["Zed"])
    assert initials(long_name) == "AZ"
    assert len(initials("A" * 10_000)) == 1

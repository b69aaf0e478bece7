"""Word differences and level comparisons, without HTTP."""

from __future__ import annotations

from types import SimpleNamespace

from app.models import DaciRole
from app.services.frameworks.compare import compare_decision_rights, diff_words


def marked(diff) -> tuple[str, str]:
    """Both sides as text, removed words in [-…-] and added ones in {+…+}."""
    before = "".join(f"[-{p.text}-]" if p.is_changed else p.text for p in diff.before)
    after = "".join(f"{{+{p.text}+}}" if p.is_changed else p.text for p in diff.after)
    return before, after


def test_changed_words_are_marked_and_spaces_stay_outside():
    diff = diff_words(
        "Joins customer interviews and writes up what was learned within a day.",
        "Runs customer interviews and writes up what was learned within a week.",
    )
    assert marked(diff) == (
        "[-Joins-] customer interviews and writes up what was learned within a [-day-].",
        "{+Runs+} customer interviews and writes up what was learned within a {+week+}.",
    )
    assert not diff.is_same and not diff.is_rewrite


def test_punctuation_is_its_own_token():
    assert marked(diff_words("Ships the feature.", "Ships the feature, on time.")) == (
        "Ships the feature.",
        "Ships the feature{+, on time+}.",
    )


def test_a_short_word_between_two_changes_joins_them():
    before, after = marked(diff_words("Learns the craft well", "Owns the outcome well"))
    assert (before, after) == ("[-Learns the craft-] well", "{+Owns the outcome+} well")


def test_same_text_and_whitespace_only_changes_are_the_same():
    assert diff_words("Leads   the team.", "Leads the\nteam.").is_same
    assert diff_words("", "").is_same


def test_a_rewritten_text_is_recognised():
    diff = diff_words(
        "Keeps a steady rhythm of customer contact for their area.",
        "Designs research for ambiguous questions and hard-to-reach segments.",
    )
    assert diff.is_rewrite and diff.similarity < 0.4


def right(decision: str, role: str = "driver", delegation: int = 4):
    return SimpleNamespace(decision=decision, role=DaciRole(role), delegation=delegation)


def test_decision_rights_pair_by_wording_then_by_similarity():
    before = [
        right("Order of work within a sprint", delegation=4),
        right("What goes into a sprint for their team", delegation=6),
        right("Which customers to interview", "contributor", 3),
    ]
    after = [
        right("What goes into a sprint for the teams in their area", delegation=7),
        right("Order of work within a sprint", delegation=4),
        right("Quarterly goals", delegation=4),
    ]
    result = compare_decision_rights(before, after)
    assert [r.change for r in result] == ["changed", "same", "added", "removed"]
    reworded = result[0]
    assert reworded.before is before[1] and reworded.delegation_trend == 1
    assert marked(reworded.decision)[1] == (
        "What goes into a sprint for {+the teams in+} their {+area+}"
    )
    assert result[3].before is before[2] and result[3].after is None

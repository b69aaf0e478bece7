"""Word-level differences between two texts, for <del>/<ins> highlighting anywhere in the app."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

SegmentKind = Literal["same", "added", "removed"]
# Words (with their apostrophes: "team's", "don't") and single punctuation marks, each with the
# whitespace before it, so that "L2." and "L2 for the team." share "L2".
_WORD = re.compile(r"(\s*)(\w+(?:['\u2019]\w+)*|[^\w\s])")
# A lone short word between two changes ("a", "the", "to") reads better inside the change.
_GLUE_WORD_LENGTH = 3

Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    text: str

    @property
    def lead(self) -> str:
        """Whitespace in front of the words: render it outside <del>/<ins>."""
        return self.text[: len(self.text) - len(self.text.lstrip())]

    @property
    def words(self) -> str:
        return self.text.lstrip()


def word_diff(old: str, new: str) -> list[Segment]:
    """The two texts as runs of unchanged, removed and added words.

    Words and punctuation marks are compared without the whitespace around them. Whitespace
    that both texts have in front of a change is a "same" segment of its own; whitespace that
    only one text has there (" and more" inserted before a full stop) leads the changed segment
    (see `Segment.lead`). Joining the "same" and "removed" segments gives the old text, joining
    the "same" and "added" ones the new text, but for a space that may be doubled.
    """
    a, b = _WORD.findall(old), _WORD.findall(new)
    matcher = difflib.SequenceMatcher(None, [w for _, w in a], [w for _, w in b], autojunk=False)
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in _glue(matcher.get_opcodes(), b):
        if op == "equal":
            # After a change at the start, only one text may have a space before this run.
            lead = max(a[i1][0], b[j1][0], key=len)
            segments.append(Segment("same", lead + _join(b[j1:j2]).lstrip()))
            continue
        removed, added = _join(a[i1:i2]), _join(b[j1:j2])
        old_lead = a[i1][0] if i1 < len(a) else ""
        new_lead = b[j1][0] if j1 < len(b) else ""
        if old_lead and new_lead:
            segments.append(Segment("same", new_lead))
            removed, added = removed.lstrip(), added.lstrip()
        segments.append(Segment("removed", removed))
        segments.append(Segment("added", added))
    return _merge(segments)


def normalized(text: str) -> str:
    """The text with every run of whitespace as one space: how it was wrapped does not count."""
    return " ".join(text.split())


def similarity(old: str, new: str) -> float:
    """From 0 to 1: how many words two texts share, in order."""
    return difflib.SequenceMatcher(None, old.split(), new.split(), autojunk=False).ratio()


def _join(tokens: Sequence[tuple[str, str]]) -> str:
    return "".join(space + word for space, word in tokens)


def _glue(opcodes: list[Opcode], b: list[tuple[str, str]]) -> list[Opcode]:
    """Fold a single short unchanged word between two changes into one change."""
    result: list[Opcode] = []
    for op in opcodes:
        if len(result) >= 2 and op[0] != "equal" and _is_glue(result[-2], result[-1], b):
            first = result[-2]
            del result[-2:]
            op = ("replace", first[1], op[2], first[3], op[4])
        result.append(op)
    return result


def _is_glue(before: Opcode, middle: Opcode, b: list[tuple[str, str]]) -> bool:
    return (
        before[0] != "equal"
        and middle[0] == "equal"
        and middle[4] - middle[3] == 1
        and len(b[middle[3]][1]) <= _GLUE_WORD_LENGTH
    )


def _merge(segments: list[Segment]) -> list[Segment]:
    """Drop empty segments and join neighbours of the same kind."""
    merged: list[Segment] = []
    for segment in segments:
        if not segment.text:
            continue
        if merged and merged[-1].kind == segment.kind:
            merged[-1] = Segment(segment.kind, merged[-1].text + segment.text)
        else:
            merged.append(segment)
    return merged

"""How sizes and counts read on the pages and the command line: '172 KB', '1 file', '2 files'."""

from __future__ import annotations


def size_label(size: int) -> str:
    """A size in bytes, KB or MB (steps of 1,024), rounded as a person reads it."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def counted(count: int, noun: str) -> str:
    """'1 file', '1,234 files': a count with its noun, plural when it is not one."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"

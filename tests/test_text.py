"""wncc.text: strings from a model made inert for emitted comments and one-line messages."""

from __future__ import annotations

import pytest

from wncc.text import inert, one_line


@pytest.mark.parametrize("raw, safe", [
    ("layers.3.conv", "layers.3.conv"),
    ("a */ b", "a *\\x2f b"),
    ("a /* b", "a /\\x2a b"),
    ("x\n#error y", "x\\n#error y"),
    ("tail\\", "tail\\x5c"),
    ("??/", "?\\x3f/"),
    ("\x1b[31mred", "\\x1b[31mred"),
    ("é\u202e", "\\xe9\\u202e"),
    ("\U0001f600", "\\U0001f600"),
])
def test_inert(raw, safe):
    assert inert(raw) == safe


def test_inert_has_no_comment_or_splice_sequence_for_any_pair():
    chars = ["*", "/", "?", "\\", "\n", "\r", "a", " ", "#"]
    for a in chars:
        for b in chars:
            for c in chars:
                out = inert(a + b + c)
                assert "*/" not in out and "/*" not in out and "??" not in out
                assert out.isprintable() and out.isascii() and not out.endswith("\\")


def test_one_line_keeps_letters_and_escapes_controls():
    assert one_line("naïve\tname\n#x\u202e") == "naïve\\tname\\n#x\\u202e"

"""Instruction text split for the ear: a cue per sentence, a very long sentence at its clauses.

A paragraph read out in one breath is hard to follow without a screen; a sentence at a
time, with the usual pause between lines, is not. `split_for_speech` is pure and
deterministic: the same text always gives the same pieces. Its rules, in order:

1. A blank line (a new paragraph) or a line that starts a list item ("- ", "* ", "• ",
   "2. ", "2) ") starts a new piece. A bullet sign is dropped (it is not a word); a
   number is kept (it may matter: "Step 2").
2. A sentence ends at `.`, `!`, `?` or `…` (with any closing quote or bracket) followed by
   a space, unless the next word starts with a lower-case letter ("e.g. the knee"), the
   word before the full stop is a known abbreviation ("Dr.", "approx."), or the sentence
   so far is only a list number ("1. Lie down.").
3. A sentence longer than `LONG_SENTENCE_CHARS` is split after `;`, `:` or a dash, and a
   part still too long after its commas; neighbouring clauses are joined again while they
   fit in that length, so no piece is a stray "slowly,".
4. Runs of white space become one space.

Joined with spaces, the pieces are the text (less bullet signs and extra white space).
A piece longer than `MAX_TEXT_CHARS` has nowhere to break: `UnbreakableText`.
"""

from __future__ import annotations

import re

from .model import MAX_TEXT_CHARS

LONG_SENTENCE_CHARS = 160
"""A sentence longer than this (about ten seconds of speech) is split at clause breaks."""
ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "st", "no", "nr", "vs", "cf", "e.g", "i.e", "approx", "ca"}
    | {"fig", "z.b", "bzw", "ggf", "sr", "jr"}
)
"""Words whose full stop does not end a sentence (lower case, without the last stop)."""

_BULLET = re.compile(r"\s*[-*•‣◦]\s+")
_NUMBERED = re.compile(r"\s*\(?\d{1,3}[.)]\s")
_LIST_NUMBER = re.compile(r"\(?(\d{1,3}|[A-Za-z])[.)]")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'\u201d\u2019»)\]]*(?=\s)")
_STRONG_BREAK = re.compile(r"(?<=[;:])\s+|(?<=\s[\u2014\u2013-])\s+|(?<=\w\u2014)(?=\w)")
"""After ; or :, after a dash with spaces around it (em, en or hyphen), after an em dash
between two words."""
_COMMA_BREAK = re.compile(r"(?<=,)\s+")


class UnbreakableText(ValueError):
    """A piece of text longer than `MAX_TEXT_CHARS` with no sentence end or clause break."""

    def __init__(self, run: str) -> None:
        self.run = run
        super().__init__(f"{len(run)} characters without a break: {run[:40]!r}")


def split_for_speech(text: str) -> tuple[str, ...]:
    """The pieces `text` is spoken in, one cue each (none for blank text).

    Raises `UnbreakableText` for a piece longer than `MAX_TEXT_CHARS`."""
    pieces: list[str] = []
    for block in _blocks(text):
        for sentence in _sentences(block):
            pieces += _clauses(sentence)
    for piece in pieces:
        if len(piece) > MAX_TEXT_CHARS:
            raise UnbreakableText(piece)
    return tuple(pieces)


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items, each on one line with single spaces."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        bullet = _BULLET.match(line)
        if not line.strip() or bullet or _NUMBERED.match(line):
            blocks.append([])
        if bullet:
            line = line[bullet.end() :]
        blocks[-1].append(line)
    joined = (" ".join(" ".join(lines).split()) for lines in blocks)
    return [block for block in joined if block]


def _sentences(block: str) -> list[str]:
    out: list[str] = []
    start = 0
    for end in _SENTENCE_END.finditer(block):
        after = block[end.end() :].lstrip()
        if not after or after[0].islower():
            continue
        words = block[start : end.start()].split()
        if end.group() == "." and words and words[-1].lstrip("(").lower() in ABBREVIATIONS:
            continue
        sentence = block[start : end.end()].strip()
        if _LIST_NUMBER.fullmatch(sentence):
            continue
        out.append(sentence)
        start = end.end()
    rest = block[start:].strip()
    return [*out, rest] if rest else out


def _clauses(sentence: str) -> list[str]:
    """A long sentence as clauses of at most `LONG_SENTENCE_CHARS` where it has breaks."""
    if len(sentence) <= LONG_SENTENCE_CHARS:
        return [sentence]
    out: list[str] = []
    for part in _joined(_split_at(sentence, _STRONG_BREAK)):
        out += _joined(_split_at(part, _COMMA_BREAK)) if len(part) > LONG_SENTENCE_CHARS else [part]
    return out


def _split_at(text: str, breaks: re.Pattern[str]) -> list[tuple[str, str]]:
    """`text` cut at `breaks`: each part with what stood before it (" ", or "" after a
    dash without spaces)."""
    parts, start, before = [], 0, ""
    for gap in breaks.finditer(text):
        parts.append((before, text[start : gap.start()]))
        start, before = gap.end(), " " if gap.group() else ""
    parts.append((before, text[start:]))
    return [(b, p) for b, p in parts if p]


def _joined(parts: list[tuple[str, str]]) -> list[str]:
    """Neighbouring parts joined again while they fit in `LONG_SENTENCE_CHARS`, first
    come first."""
    out: list[str] = []
    for before, part in parts:
        if out and len(out[-1]) + len(before) + len(part) <= LONG_SENTENCE_CHARS:
            out[-1] += before + part
        else:
            out.append(part)
    return out

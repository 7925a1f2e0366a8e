"""A routine on one page of paper: the handout a physiotherapist gives a patient.

`card_html` lays out the title, the safety note (the routine's intro), each step with
its setup text, hold, reps and sides as the person's settings make them (the planned
routine and its timeline, as `show` and `export` see them), and the total time; then
QR codes: the routine's page and its MP3 where the caller knows their addresses (when
served), and the routine itself, as a short voice_coach script, where it fits in one.

Black on white with no fills, so it prints on any printer; sized to be read at arm's
length; one A4 or Letter page for a routine of the bundled ones' size. A pure function
of its inputs (`card_html`); `write_card` makes the speech to time it and writes it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExportError
from ..routine.model import OTHER_SIDE, Count, Exercise, Flow, Rest, Routine
from ..serve.qr import qr_svg
from ..timefmt import length, seconds_words
from ..timeline import Timeline

if TYPE_CHECKING:
    from ..plan import Plan
    from ..prepare import Progress

MAX_QR_BYTES = 1000
"""The most text put in the routine's own QR code: beyond that its modules get too
small to scan from paper at the card's size."""
DEFAULT_SAFETY = (
    "Go gently. Stop at once if anything hurts, and ask your doctor or physiotherapist."
)

CARD_CSS = """
@page { margin: 12mm; }
* { box-sizing: border-box; }
html { color: #000; background: #fff; }
body { margin: 0; font: 12pt/1.35 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
h1 { font-size: 20pt; line-height: 1.15; margin: 0 0 1mm; }
.total { font-size: 13pt; font-weight: bold; margin: 0 0 2mm; }
.safety { border: 0.6mm solid #000; padding: 1.5mm 3mm; margin: 0 0 3mm; }
.safety strong { font-size: 12.5pt; }
ol.steps { list-style: none; margin: 0; padding: 0; }
ol.steps > li { border-top: 0.3mm solid #000; padding: 1.5mm 0 1.5mm; break-inside: avoid; }
ol.steps > li.rest { padding: 0.8mm 0; font-style: italic; }
.name { font-size: 14pt; font-weight: bold; }
.num { display: inline-block; min-width: 7mm; }
.dose { font-weight: bold; white-space: nowrap; }
.setup { margin: 0.5mm 0 0 7mm; }
footer { display: flex; gap: 6mm; align-items: flex-start; border-top: 0.6mm solid #000;
         padding-top: 2mm; break-inside: avoid; }
figure { margin: 0; width: 36mm; text-align: center; font-size: 9.5pt; line-height: 1.2; }
figure img { width: 36mm; height: 36mm; display: block; image-rendering: pixelated; }
figure.script { width: 44mm; }
figure.script img { width: 44mm; height: 44mm; }
.made { font-size: 9.5pt; align-self: flex-end; margin-left: auto; text-align: right; }
@media screen { body { max-width: 190mm; margin: 4mm auto; padding: 0 4mm; } }
@media print { .hint { display: none; } }
.hint { border: 0.3mm dashed #000; padding: 1mm 3mm; }
"""


@dataclass(frozen=True)
class CardLinks:
    """Where the routine can be found when it is served, for the QR codes."""

    page_url: str | None = None
    """The page that plays it."""
    mp3_url: str | None = None
    """An MP3 of it."""


def card_html(
    routine: Routine,
    timeline: Timeline,
    links: CardLinks = CardLinks(),
) -> str:
    """The card of `routine` (as planned: the person's settings applied) laid out as
    `timeline`, an HTML document ready to print."""
    e = _escape
    safety = routine.intro or (DEFAULT_SAFETY,)
    n_ex = len(routine.exercises)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(routine.title)}</title>",
        f"<style>{CARD_CSS}</style></head><body>",
        '<p class="hint">To print: your browser\'s Print (Ctrl+P; on a phone, Share, then '
        "Print). It fits on one A4 or Letter page.</p>",
        f"<h1>{e(routine.title)}</h1>",
        f'<p class="total">Total time: about {e(length(timeline.total_ms))} · '
        f"{n_ex} exercise{'' if n_ex == 1 else 's'}</p>",
        f'<p class="safety"><strong>Safety first.</strong> {e(" ".join(safety))}</p>',
        '<ol class="steps">',
    ]
    number = 0
    for step in routine.steps:
        if isinstance(step, Rest):
            parts.append(f'<li class="rest">Rest {e(seconds_words(step.rest_s))}</li>')
            continue
        number += 1
        parts.append(
            f'<li><span class="name"><span class="num">{number}.</span>{e(step.name)}</span>'
            f' — <span class="dose">{e(dose(step))}</span>'
        )
        setup = _setup(step)
        if setup:
            parts.append(f'<p class="setup">{e(setup)}</p>')
        parts.append("</li>")
    parts.append("</ol>")
    figures = []
    if links.page_url:
        figures.append(_figure(qr_svg(links.page_url), "Play it on the page", "page"))
    if links.mp3_url:
        figures.append(_figure(qr_svg(links.mp3_url), "Download the MP3", "mp3"))
    script = short_script(routine)
    if script is not None:
        figures.append(
            _figure(
                qr_svg(script), "The routine itself: voice-coach import, or Add a routine", "script"
            )
        )
    parts.append("<footer>" + "".join(figures))
    parts.append('<p class="made">Made with voice_coach</p></footer>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def dose(step: Exercise) -> str:
    """How much of a step: "hold 60 s, each side (right first)", "hold 30 s, 3 times"."""
    pace = step.pace
    if isinstance(pace, Flow):
        what = f"{pace.rounds} round{'s' if pace.rounds != 1 else ''} of {len(pace.beats)} breaths"
        what += f" ({seconds_words(pace.length_s)})"
    elif isinstance(pace, Count):
        what = f"count {pace.count}, one every {seconds_words(pace.tempo_s)}"
    else:
        what = f"hold {seconds_words(step.hold_s)}"
    if len(step.sides) == 2:
        what += f", each side ({step.sides[0]} first)"
    elif len(step.sides) == 1:
        what += f", {step.sides[0]} side"
    if step.reps > 1:
        what += f", {step.reps} times" + (" a side" if step.sides else "")
    return what


def _setup(step: Exercise) -> str:
    """The setup lines as one paragraph, written for the first side."""
    if not step.sides:
        return " ".join(step.setup)
    side = step.sides[0]
    return " ".join(
        line.replace("{side}", side).replace("{other}", OTHER_SIDE[side]) for line in step.setup
    )


def short_script(routine: Routine, max_bytes: int = MAX_QR_BYTES) -> str | None:
    """`routine` as a short voice_coach script (its steps with the settings applied):
    with the setup lines if that fits in `max_bytes`, else without them; None if even
    that is too long."""
    import yaml

    for with_setup in (True, False):
        data = {
            "title": routine.title,
            "steps": [_short_step(s, with_setup) for s in routine.steps],
        }
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)
        if len(text.encode("utf-8")) <= max_bytes:
            return text
    return None


def _short_step(step: Exercise | Rest, with_setup: bool) -> dict[str, Any]:
    if isinstance(step, Rest):
        return {"rest": step.rest_s}
    out: dict[str, Any] = {"name": step.name}
    if isinstance(step.pace, Flow):
        out["flow"] = [{"say": b.say, "secs": b.beat_s} for b in step.pace.beats]
        out["rounds"] = step.pace.rounds
    elif isinstance(step.pace, Count):
        out.update(count=step.pace.count, tempo=step.pace.tempo_s)
    else:
        out["hold"] = step.hold_s
    if step.sides:
        out["sides"] = list(step.sides)
    if step.reps > 1:
        out["reps"] = step.reps
    if with_setup and step.setup:
        out["setup"] = list(step.setup)
    return out


def _figure(svg: str, caption: str, kind: str) -> str:
    import base64

    data = base64.b64encode(svg.encode()).decode()
    return (
        f'<figure class="{kind}"><img alt="QR code: {_escape(caption)}" '
        f'src="data:image/svg+xml;base64,{data}"><figcaption>{_escape(caption)}</figcaption></figure>'
    )


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def planned_card(
    plan: Plan, links: CardLinks = CardLinks(), progress: Progress | None = None
) -> str:
    """The card of a planned routine: its speech made (or read from the cache) to know
    the total time."""
    from ..prepare import prepare_plan

    return card_html(plan.routine, prepare_plan(plan, progress).timeline, links)


def write_card(
    plan: Plan, path: Path, links: CardLinks = CardLinks(), progress: Progress | None = None
) -> None:
    """`voice-coach card`: the card of `plan` written to `path`, whole or not at all."""
    from ..atomic import write_atomically

    text = planned_card(plan, links, progress)
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None

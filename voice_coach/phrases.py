"""The fixed words voice_coach speaks around a routine's own lines, per language.

A routine picks a table with `language:` and may replace any phrase with
`phrases: {hold: "And hold it there."}`. A language without a table falls back to
English, with a warning.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# -- numbers in words ----------------------------------------------------------------

_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _check(n: int) -> None:
    if not 0 <= n <= 999:
        raise ValueError(f"number words cover 0..999, got {n}")


def number_words(n: int) -> str:
    """English: 42 -> "forty-two"."""
    _check(n)
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_EN_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


_DE_ONES = [
    "null",
    "eins",
    "zwei",
    "drei",
    "vier",
    "fünf",
    "sechs",
    "sieben",
    "acht",
    "neun",
    "zehn",
    "elf",
    "zwölf",
    "dreizehn",
    "vierzehn",
    "fünfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
]
_DE_TENS = [
    "_",
    "_",
    "zwanzig",
    "dreißig",
    "vierzig",
    "fünfzig",
    "sechzig",
    "siebzig",
    "achtzig",
    "neunzig",
]


def german_number(n: int) -> str:
    """German: 21 -> "einundzwanzig" (units before tens, one word)."""
    _check(n)
    if n < 20:
        return _DE_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        unit = "ein" if ones == 1 else _DE_ONES[ones]
        return (f"{unit}und" if ones else "") + _DE_TENS[tens]
    hundreds, rest = divmod(n, 100)
    head = "ein" if hundreds == 1 else _DE_ONES[hundreds]
    return f"{head}hundert" + (german_number(rest) if rest else "")


_ES_ONES = [
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
]
_ES_TENS = [
    "_",
    "_",
    "_",
    "treinta",
    "cuarenta",
    "cincuenta",
    "sesenta",
    "setenta",
    "ochenta",
    "noventa",
]
_ES_HUNDREDS = [
    "_",
    "ciento",
    "doscientos",
    "trescientos",
    "cuatrocientos",
    "quinientos",
    "seiscientos",
    "setecientos",
    "ochocientos",
    "novecientos",
]


def spanish_number(n: int) -> str:
    """Spanish: 31 -> "treinta y uno"."""
    _check(n)
    if n < 30:
        return _ES_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _ES_TENS[tens] + (f" y {_ES_ONES[ones]}" if ones else "")
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    return _ES_HUNDREDS[hundreds] + (f" {spanish_number(rest)}" if rest else "")


_FR_ONES = [
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix-sept",
    "dix-huit",
    "dix-neuf",
]
_FR_TENS = ["_", "_", "vingt", "trente", "quarante", "cinquante", "soixante"]


def french_number(n: int) -> str:
    """French: 71 -> "soixante et onze", 80 -> "quatre-vingts"."""
    _check(n)
    if n < 20:
        return _FR_ONES[n]
    if n < 70:
        tens, ones = divmod(n, 10)
        if ones == 0:
            return _FR_TENS[tens]
        return _FR_TENS[tens] + (" et un" if ones == 1 else f"-{_FR_ONES[ones]}")
    if n < 80:
        return "soixante" + (" et onze" if n == 71 else f"-{french_number(n - 60)}")
    if n < 100:
        return "quatre-vingts" if n == 80 else f"quatre-vingt-{french_number(n - 80)}"
    hundreds, rest = divmod(n, 100)
    head = "cent" if hundreds == 1 else f"{_FR_ONES[hundreds]} cent" + ("s" if not rest else "")
    return head + (f" {french_number(rest)}" if rest else "")


# -- a language's table ------------------------------------------------------------------


@dataclass(frozen=True)
class Phrases:
    """Templates for every cue that is not written in the routine script."""

    language: str = "en"
    hold: str = "Hold it and stay relaxed."
    """At the start of each hold. Not a bare "Hold.": said alone, one syllable is easily
    missed; a recognizer heard espeak-ng's "Hold." as "that will" every time (see
    benchmarks/README.md, intelligibility)."""
    halfway: str = "Halfway there."
    remaining: str = "{duration} left."
    """Said at the `remaining` marks; {duration} in words, e.g. "ten seconds"."""
    remaining_one: str = "{duration} left."
    """The same when the duration is one unit ("one minute"), for languages that agree."""
    switch_sides: str = "Switch sides."
    rest: str = "Rest for {duration}."
    """{duration} with digits, e.g. "20 seconds"."""
    next_up: str = "Next: {name}."
    between: str = "Once more."
    release: str = "And release."
    finish: str = "Well done. That is the end of {title}."
    log_reminder: str = "How is your pain now, from zero to ten? Note it in your practice log."
    """Said last in a recording: what `play` asks, and where the answer goes."""
    pain_question: str = "How is your pain now, from zero to ten?"
    """The live check-in's question (the `checkin` setting)."""
    pain_noted: str = "Pain {rating}. Noted."
    """Its answer said back; {rating} in words."""
    pain_again: str = "Sorry, I did not catch that. Your pain, from zero to ten?"
    pain_confirm: str = "Did you say {rating}? Say yes to note it."
    """A spoken rating asked back before it is noted (`checkin.CONFIRMED_BY_VOICE`)."""
    pain_not_noted: str = "Nothing noted."
    units: tuple[str, str, str, str] = ("second", "seconds", "minute", "minutes")
    one: str = "one"
    """The word for 1 before a unit ("one minute", "eine Minute")."""
    left: str = "left"
    right: str = "right"
    lowercase_names: bool = True
    """Lower-case the first letter of a step name after "Next:"."""
    numbers: Callable[[int], str] = field(default=number_words, compare=False, repr=False)
    flare: tuple[str, ...] = (
        "Your pain was {pain} last time, so today's session is one stage gentler.",
        "After a flare-up, rest for a day or two, then start again gently.",
        "See a doctor if the pain spreads down your leg, or does not ease.",
    )
    """Said before the first step of the session after a flare-up (the advice of the
    page the bundled routines come from); {pain} is the rating, in words."""

    def countdown(self, n: int) -> str:
        return _sentence(self.numbers(n)) + "."

    def _words(self, seconds: float) -> tuple[str, bool]:
        total = round(seconds)
        minutes, secs = divmod(total, 60)
        parts = []
        s1, sn, m1, mn = self.units
        if minutes:
            parts.append(f"{self.one} {m1}" if minutes == 1 else f"{self.numbers(minutes)} {mn}")
        if secs or not minutes:
            parts.append(f"{self.one} {s1}" if secs == 1 else f"{self.numbers(secs)} {sn}")
        return " ".join(parts), total in (1, 60)

    def remaining_text(self, seconds: float) -> str:
        words, single = self._words(seconds)
        template = self.remaining_one if single else self.remaining
        return _sentence(template.format(duration=words))

    def rest_text(self, seconds: float) -> str:
        total = round(seconds)
        minutes, secs = divmod(total, 60)
        s1, sn, m1, mn = self.units
        parts = []
        if minutes:
            parts.append(f"{minutes} {m1 if minutes == 1 else mn}")
        if secs or not minutes:
            parts.append(f"{secs} {s1 if secs == 1 else sn}")
        return self.rest.format(duration=" ".join(parts))

    def next_text(self, name: str) -> str:
        shown = name[:1].lower() + name[1:] if self.lowercase_names else name
        return self.next_up.format(name=shown.rstrip("."))

    def finish_text(self, title: str) -> str:
        return self.finish.format(title=title.rstrip("."))

    def side(self, side: str) -> str:
        return self.left if side == "left" else self.right

    def flare_text(self, pain: int) -> tuple[str, ...]:
        return tuple(line.format(pain=self.numbers(pain)) for line in self.flare)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


ENGLISH = Phrases()
TABLES: dict[str, Phrases] = {
    "en": ENGLISH,
    "de": Phrases(
        language="de",
        hold="Halten.",
        halfway="Die Hälfte ist geschafft.",
        remaining="Noch {duration}.",
        remaining_one="Noch {duration}.",
        switch_sides="Seite wechseln.",
        rest="Pause: {duration}.",
        next_up="Als Nächstes: {name}.",
        between="Noch einmal.",
        release="Und lösen.",
        finish="Gut gemacht. Das war {title}.",
        log_reminder="Wie stark sind die Schmerzen jetzt, von null bis zehn? Notieren Sie es.",
        pain_question="Wie stark sind die Schmerzen jetzt, von null bis zehn?",
        pain_noted="Schmerz {rating}. Notiert.",
        pain_again="Wie bitte? Die Schmerzen, von null bis zehn?",
        pain_confirm="Haben Sie {rating} gesagt? Sagen Sie ja, dann notiere ich es.",
        pain_not_noted="Nichts notiert.",
        units=("Sekunde", "Sekunden", "Minute", "Minuten"),
        one="eine",
        left="linke",
        right="rechte",
        lowercase_names=False,
        numbers=german_number,
        flare=(
            "Beim letzten Mal lag der Schmerz bei {pain}, darum ist die Einheit heute eine "
            "Stufe sanfter.",
            "Nach einem Schub ein bis zwei Tage ruhen, dann sanft wieder anfangen.",
            "Zum Arzt gehen, wenn der Schmerz ins Bein ausstrahlt oder nicht nachlässt.",
        ),
    ),
    "es": Phrases(
        language="es",
        hold="Mantén.",
        halfway="Vas por la mitad.",
        remaining="Quedan {duration}.",
        remaining_one="Queda {duration}.",
        switch_sides="Cambia de lado.",
        rest="Descansa {duration}.",
        next_up="A continuación: {name}.",
        between="Otra vez.",
        release="Y suelta.",
        finish="Muy bien. Has terminado {title}.",
        log_reminder="¿Cuánto dolor tienes ahora, de cero a diez? Anótalo en tu registro.",
        pain_question="¿Cuánto dolor tienes ahora, de cero a diez?",
        pain_noted="Dolor {rating}. Anotado.",
        pain_again="Perdona, no lo he entendido. ¿Tu dolor, de cero a diez?",
        pain_confirm="¿Has dicho {rating}? Di sí para anotarlo.",
        pain_not_noted="No he anotado nada.",
        units=("segundo", "segundos", "minuto", "minutos"),
        one="un",
        left="izquierda",
        right="derecha",
        numbers=spanish_number,
        flare=(
            "La última vez tu dolor fue de {pain}, así que la sesión de hoy es un nivel más suave.",
            "Después de una crisis, descansa uno o dos días y luego vuelve a empezar con suavidad.",
            "Consulta a un médico si el dolor se extiende por la pierna o no mejora.",
        ),
    ),
    "fr": Phrases(
        language="fr",
        hold="Tenez.",
        halfway="Vous êtes à mi-chemin.",
        remaining="Encore {duration}.",
        remaining_one="Encore {duration}.",
        switch_sides="Changez de côté.",
        rest="Repos pendant {duration}.",
        next_up="Ensuite : {name}.",
        between="Encore une fois.",
        release="Et relâchez.",
        finish="Bravo. C'est la fin de {title}.",
        log_reminder="Quelle est votre douleur, de zéro à dix ? Notez-la dans votre journal.",
        pain_question="Quelle est votre douleur maintenant, de zéro à dix ?",
        pain_noted="Douleur {rating}. C'est noté.",
        pain_again="Pardon, je n'ai pas compris. Votre douleur, de zéro à dix ?",
        pain_confirm="Vous avez dit {rating} ? Dites oui pour le noter.",
        pain_not_noted="Rien de noté.",
        units=("seconde", "secondes", "minute", "minutes"),
        one="une",
        left="gauche",
        right="droite",
        numbers=french_number,
        flare=(
            "La dernière fois, votre douleur était à {pain} : la séance d'aujourd'hui est "
            "donc un cran plus douce.",
            "Après une poussée, reposez-vous un jour ou deux, puis reprenez en douceur.",
            "Consultez un médecin si la douleur descend dans la jambe ou ne diminue pas.",
        ),
    ),
}

OVERRIDABLE: dict[str, set[str]] = {
    "hold": set(),
    "halfway": set(),
    "remaining": {"duration"},
    "remaining_one": {"duration"},
    "switch_sides": set(),
    "rest": {"duration"},
    "next_up": {"name"},
    "between": set(),
    "release": set(),
    "finish": {"title"},
    "log_reminder": set(),
}
"""Phrases a routine may replace, and the placeholders each may use."""


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{([^{}]*)\}", text))


def base_language(code: str) -> str:
    """ "de-AT" -> "de"."""
    return code.replace("_", "-").split("-")[0].lower()


def phrases_for(
    language: str | None, overrides: Mapping[str, str] | None = None
) -> tuple[Phrases, list[str]]:
    """The table for `language` with a routine's own phrases applied, and warnings."""
    warnings = []
    table = ENGLISH
    if language:
        found = TABLES.get(base_language(language))
        if found is None:
            warnings.append(
                f"no cue words for language {language!r} (have: {', '.join(TABLES)}); "
                "using English ones; replace them with `phrases:` in the routine"
            )
        else:
            table = found
    if overrides:
        changes: dict[str, Any] = dict(overrides)
        if "remaining" in changes and "remaining_one" not in changes:
            changes["remaining_one"] = changes["remaining"]
        table = dataclasses.replace(table, **changes)
    return table, warnings

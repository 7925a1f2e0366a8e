"""Writing a routine's profile section: `settings ROUTINE --save` and the function the
page shares with it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import ROUTINES
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.errors import ValidationError
from voice_coach.plan import make_plan
from voice_coach.routine import yamlsafe
from voice_coach.settings.profile_edit import save_routine_settings, with_section
from voice_coach.settings.words import Choices

runner = CliRunner()
FULL = str(ROUTINES / "full.yaml")  # steps: 1 Side stretch (sides), 2 rest, 3 Seated stretch
WRITTEN = """\
# My profile: slow voice, gentle start.
voice: {rate: 150}   # slow
defaults: {countdown: 5}
routines:
  full:
    hold: {Seated stretch: 45, 1: 50}  # the hamstrings need longer
    settle: {1: 10}
  # walking: a longer session
  walking:
    reps: 2
# the end
"""


@pytest.fixture
def profile(private_user_dirs: Path) -> Path:
    path = private_user_dirs / "config" / "profile.yaml"
    path.parent.mkdir(parents=True)
    return path


def section(path: Path, slug: str = "full") -> object:
    return yamlsafe.load(path.read_text())["routines"][slug]


def test_a_new_profile_gets_the_section(profile: Path) -> None:
    saved = save_routine_settings(FULL, Choices.of(hold=("Seated stretch=45",), rate=140))
    assert saved.path == profile
    assert profile.read_text() == (
        "routines:\n  full:\n    hold:\n      Seated stretch: 45\n    voice:\n      rate: 140\n"
    )
    plan = make_plan(FULL)
    assert plan.routine.steps[2].hold_s == 45  # type: ignore[union-attr]
    assert plan.resolved.voice.rate_wpm == 140


def test_the_rest_of_the_file_is_kept_and_the_section_merged(profile: Path) -> None:
    profile.write_text(WRITTEN)
    save_routine_settings(FULL, Choices.of(hold=("1=40",), scale=1.5, chimes=False, sides="left"))
    text = profile.read_text()
    assert text.startswith("# My profile: slow voice, gentle start.\nvoice: {rate: 150}   # slow\n")
    assert "  # walking: a longer session\n  walking:\n    reps: 2\n# the end\n" in text
    assert section(profile) == {
        "hold": {"Seated stretch": 45, "Side stretch": 40},
        "settle": {1: 10},
        "scale": 1.5,
        "chimes": False,
        "sides": "left",
    }
    # Saved again with the same values: the same file.
    save_routine_settings(FULL, Choices.of(hold=("Side stretch=40",)))
    assert profile.read_text() == text


def test_a_value_for_every_step_replaces_the_single_ones(profile: Path) -> None:
    profile.write_text(WRITTEN)
    save_routine_settings(FULL, Choices.of(hold=("30",)))
    assert section(profile) == {"hold": 30, "settle": {1: 10}}
    # Every step and one step at once: each exercise named.
    save_routine_settings(FULL, Choices.of(hold=("20", "3=25")))
    assert section(profile)["hold"] == {"Side stretch": 20, "Seated stretch": 25}  # type: ignore[index]
    # One step on top of a value for every step: the others keep it.
    save_routine_settings(FULL, Choices.of(reps=("2",)))
    save_routine_settings(FULL, Choices.of(reps=("1=3",)))
    assert section(profile)["reps"] == {"Side stretch": 3, "Seated stretch": 2}  # type: ignore[index]


def test_another_routine_is_added_beside_the_others(profile: Path) -> None:
    profile.write_text(WRITTEN)
    save_routine_settings(str(ROUTINES / "minimal.yaml"), Choices.of(reps=("2",)))
    text = profile.read_text()
    assert text.endswith("  walking:\n    reps: 2\n  minimal:\n    reps: 2\n# the end\n")
    assert section(profile, "walking") == {"reps": 2}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "routines:\n  x:\n    hold: 45\n"),
        ("# only a comment", "# only a comment\nroutines:\n  x:\n    hold: 45\n"),
        ("voice: {rate: 150}\n", "voice: {rate: 150}\nroutines:\n  x:\n    hold: 45\n"),
        ("routines:\n", "routines:\n  x:\n    hold: 45\n"),
        (
            "routines: ~\nvoice: {rate: 150}\n",
            "routines:\n  x:\n    hold: 45\nvoice: {rate: 150}\n",
        ),
        (
            "routines: {a: {reps: 2}}  # inline\n",
            "routines:\n  a:\n    reps: 2\n  x:\n    hold: 45  # inline\n",
        ),
        ("routines:\n  x: {reps: 2}  # old\n  y: {}\n", "routines:\n  x:\n    hold: 45\n  y: {}\n"),
        ("routines:\n    x:\n        reps: 2\n", "routines:\n    x:\n      hold: 45\n"),
        ("{voice: {rate: 150}}\n", "voice:\n  rate: 150\nroutines:\n  x:\n    hold: 45\n"),
    ],
)
def test_with_section_in_every_shape(text: str, expected: str) -> None:
    assert with_section(text, "x", {"hold": 45}) == expected
    assert yamlsafe.load(expected)["routines"]["x"] == {"hold": 45}


def test_bad_values_and_broken_profiles_write_nothing(profile: Path) -> None:
    profile.write_text(WRITTEN)
    for choices in (
        Choices.of(hold=("Nope=30",)),
        Choices.of(hold=("0",)),
        Choices.of(hold=("9000",), scale=2.0),
        Choices(week=2),
    ):
        with pytest.raises(ValidationError):
            save_routine_settings(FULL, choices)
    assert profile.read_text() == WRITTEN
    profile.write_text("routines:\n  full:\n    hold: many\n")
    with pytest.raises(ValidationError) as error:
        save_routine_settings(FULL, Choices.of(reps=("2",)))
    assert "hold" in str(error.value)
    assert profile.read_text() == "routines:\n  full:\n    hold: many\n"
    assert [p.name for p in profile.parent.iterdir()] == ["profile.yaml"]


def test_permissions_and_links_are_kept(profile: Path, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "profile.yaml"
    real.parent.mkdir()
    real.write_text(WRITTEN)
    os.chmod(real, 0o600)
    profile.symlink_to(real)
    save_routine_settings(FULL, Choices.of(reps=("2",)))
    assert profile.is_symlink() and section(real)["reps"] == 2  # type: ignore[index]
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_cli_save_then_settings_shows_the_profile(profile: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["settings", FULL, "--hold", "Seated stretch=45", "--save"])
    assert result.exit_code == 0, result.output
    assert f"saved to {profile}" in result.stderr
    row = next(x for x in result.stdout.splitlines() if x.startswith("step 3 hold"))
    assert "45 s (Seated stretch)" in row and "profile routines.full" in row
    result = runner.invoke(app, ["settings", FULL])
    row = next(x for x in result.stdout.splitlines() if x.startswith("step 3 hold"))
    assert "45 s (Seated stretch)" in row and "profile routines.full" in row
    # --profile FILE: that file is written, made if it is not there.
    other = tmp_path / "other.yaml"
    result = runner.invoke(
        app, ["settings", FULL, "--profile", str(other), "--reps", "2", "--save"]
    )
    assert result.exit_code == 0, result.output
    assert section(other) == {"reps": 2}
    result = runner.invoke(app, ["settings", FULL, "--hold", "Nope=3", "--save"])
    assert result.exit_code == 2 and "Nope" in result.output
    assert "hold" not in str(section(other))


def test_beds_are_saved_in_the_profiles_words(
    profile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile.write_text(WRITTEN)
    save_routine_settings(FULL, Choices.of(bed="pace 110", bed_level=-18.0))
    assert section(profile) == {
        "hold": {"Seated stretch": 45, 1: 50},
        "settle": {1: 10},
        "bed": {"pace": 110},
        "bed_level": -18,
    }
    save_routine_settings(FULL, Choices.of(bed="off", bed_duck=6.5))
    assert (section(profile)["bed"], section(profile)["bed_duck"]) == ("off", 6.5)  # type: ignore[index]
    assert make_plan(FULL).routine.bed is None
    # A file: relative to where the command runs, written whole, so that the profile
    # (whose own relative paths start from its folder) names the same file.
    monkeypatch.chdir(tmp_path)
    save_routine_settings(FULL, Choices.of(bed="music/calm.mp3"))
    assert section(profile)["bed"] == {"file": str(tmp_path / "music" / "calm.mp3")}  # type: ignore[index]
    plan = make_plan(FULL)
    assert plan.routine.bed is not None and plan.routine.bed.path == str(
        tmp_path / "music" / "calm.mp3"
    )
    assert plan.routine.bed_levels.level_lu == -18 and plan.routine.bed_levels.duck_db == 6.5
    assert "  # walking: a longer session\n" in profile.read_text()  # the rest is kept
    save_routine_settings(FULL, Choices.of(bed="rain"))
    assert section(profile)["bed"] == "rain"  # type: ignore[index]


def test_bad_beds_write_nothing(profile: Path) -> None:
    profile.write_text(WRITTEN)
    for choices in (
        Choices.of(bed="pace:250"),
        Choices.of(bed=["rain", "off"]),
        Choices.of(bed_level=3.0),
    ):
        with pytest.raises(ValidationError):
            save_routine_settings(FULL, choices)
    assert profile.read_text() == WRITTEN

"""The timeline picture: `show --plot`, its colours, and the peaks it draws."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from conftest import ROUTINES, FakeEngine
from PIL import Image
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export.plot import BACKGROUND, KIND_COLOURS, PLOT_SIZE_PX, column_peaks

runner = CliRunner()
FULL = str(ROUTINES / "full.yaml")


def test_show_plot_draws_the_timeline(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    png = tmp_path / "pics" / "full.png"
    result = runner.invoke(app, ["show", FULL, "--json", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["title"] == "Full"  # stdout stays JSON
    assert f"wrote {png}" in result.stderr
    image = Image.open(png)
    assert image.format == "PNG" and image.size == PLOT_SIZE_PX
    wave_area = np.asarray(image.convert("RGB"))[70:290, 30:-30]
    inked = np.any(wave_area != np.array(BACKGROUND), axis=2).mean()
    assert 0.05 < inked < 0.95, inked
    assert sorted(p.name for p in png.parent.iterdir()) == ["full.png"]


def test_the_plot_marks_flow_lines_and_counted_reps_in_their_colours(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    png = tmp_path / "paced.png"
    paced = str(ROUTINES / "paced.yaml")
    result = runner.invoke(app, ["show", paced, "--engine", "fake", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    marks = np.asarray(Image.open(png).convert("RGB"))[310:326, 24:-24].reshape(-1, 3)
    for kind in ("flow", "count", "release"):
        assert (marks == np.array(KIND_COLOURS[kind])).all(axis=1).any(), kind


def test_column_peaks_streams_min_and_max_per_column() -> None:
    rng = np.random.default_rng(1)
    samples = rng.integers(-30000, 30000, 10_007).astype("<i2")
    chunks = [samples[i : i + 997].tobytes() for i in range(0, samples.size, 997)]
    lows, highs = column_peaks(chunks, samples.size, 37)
    cols = np.arange(samples.size) * 37 // samples.size
    for c in range(37):
        assert lows[c] == min(0, samples[cols == c].min())
        assert highs[c] == max(0, samples[cols == c].max())

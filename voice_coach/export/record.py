"""The practice record to files: the chart of minutes and pain per week as a PNG, and
the printable report as HTML (`history --plot`, `--report`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path

from ..atomic import write_atomically
from ..errors import ExportError
from ..history import Session
from ..progress import chart, report_html, weeks_of, weeks_since_first


def write_record_files(
    sessions: Sequence[Session],
    today: date,
    plot: Path | None,
    report: Path | None,
    stages: Callable[[Iterable[str]], list[tuple[str, str]]],
) -> list[Path]:
    """Write the chart (`plot`) and the report (`report`) of `sessions` as of `today`,
    each atomically; `stages` says where the progression of each routine (by name)
    stands. Returns the paths written."""
    weeks = weeks_of(sessions, today, weeks_since_first(sessions, today))
    written = []
    if plot is not None:
        from .plot import write_chart_png  # Pillow: only for a picture

        written.append(write_chart_png(chart(weeks), plot))
    if report is not None:
        slugs = dict.fromkeys(s.routine for s in sessions)
        page = report_html(sessions, weeks, stages(slugs), today)
        try:
            write_atomically(report, page.encode("utf-8"))
        except OSError as exc:
            raise ExportError(f"cannot write {report}: {exc.strerror or exc}") from None
        written.append(report)
    return written

"""Part (4) of bench_listen.py, "stop", in more noises than one, offline.

    .venv/bin/python -m benchmarks.bench_stop_offline                  # seeds 1-4, ~6 min
    .venv/bin/python -m benchmarks.bench_stop_offline --code /tmp/before   # another checkout

Part (4) plays 400 takes through the sound server once, in one noise: a voice has 16
takes of "coach stop" and 16 of "stop" said twice, so which take it misses moves from
run to run and one take is 6 %. Here the same takes are laid out as part (4) lays them
(`laid_out`), in the noise of each seed, passed through the virtual microphone's
measured response (`MICROPHONE_RESPONSE`: the sound server resamples 16 kHz to its
44.1 kHz and back, a low-pass), cut by the listener's `Utterances` and judged by
`listen.judge` with the recognizer `play` runs (`listen.Ears`, in this process), with
nothing on the air. Prints part (4)'s table for each seed and for all of them, and
every miss with what each ear made of it; the exit code is 1 if all of them together
miss part (4)'s target. No real time: the latency printed is the end of the speech and
the voice-activity window after it, without decoding (the real-time part (4) measures
the whole).

`--code DIR`: the `voice_coach` of another checkout (a `git worktree` of the commit
before a change), on the same audio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.bench_listen import (
    RATE,
    STOP_GAP_S,
    Trial,
    laid_out,
    report_stop,
    stop_takes,
    stop_trials,
)

MICROPHONE_RESPONSE = (
    (0.0, 0.0),
    (5000.0, 0.1),
    (6000.0, -2.0),
    (6500.0, -6.4),
    (7000.0, -13.6),
    (7200.0, -17.8),
    (7400.0, -22.8),
    (7600.0, -28.7),
    (7800.0, -36.4),
    (8000.0, -44.0),
)
"""(Hz, dB) of the virtual microphone, 16 kHz in and out: white noise played into it
with `pacat` and recorded with `parec` (PulseAudio 16.1, its sink at 44.1 kHz), the
spectra's ratio, 0 dB at 0.5-3 kHz."""
SEEDS = (1, 2, 3, 4)


def through_microphone(feed: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """`feed` with the virtual microphone's response (`MICROPHONE_RESPONSE`)."""
    hz, db = zip(*MICROPHONE_RESPONSE, strict=True)
    spectrum = np.fft.rfft(feed)
    gain = 10 ** (np.interp(np.fft.rfftfreq(feed.size, 1 / RATE), hz, db) / 20)
    return np.fft.irfft(spectrum * gain, feed.size)


def heard_offline(feed: npt.NDArray[np.float64], ears: object, remote: object) -> list[object]:
    """The listener's decisions (`listen.Heard`) on every utterance of `feed`, judged as
    `play` judges them (the halves of "stop, stop" paired with the utterance before),
    each taken when the voice-activity detector has seen the silence after it: no
    decoding time offline."""
    from voice_coach.live import listen

    pcm = np.clip(np.round(feed), -32768, 32767).astype("<i2").tobytes()
    cutter = listen.Utterances()
    block = int(listen.BLOCK_S * RATE) * 2
    out: list[object] = []
    before = None
    for i in range(0, len(pcm), block):
        for utterance in cutter.feed(pcm[i : i + block], (i + block) / 2 / RATE):
            verdict, hearing = listen.judge(utterance, ears, remote, before)  # type: ignore[arg-type]
            at_s = utterance.end_s + listen.VAD_WINDOW_S
            text, second = (hearing.text, hearing.second) if hearing else ("", "")
            out.append(listen.Heard(at_s, utterance.end_s, text, verdict, second))
            before = (utterance, hearing)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--code", type=Path, help="voice_coach of this checkout instead")
    parser.add_argument("--quick", action="store_true", help="two voices only")
    args = parser.parse_args(argv)
    if args.code is not None:
        sys.path.insert(0, str(args.code.resolve()))
    from voice_coach.audio.clip import Clip
    from voice_coach.live import listen
    from voice_coach.live.remote import Airtime, Remote
    from voice_coach.live.session import LiveSession
    from voice_coach.live.stream import LATENCY_S, SAMPLE_RATE
    from voice_coach.plan import load
    from voice_coach.timeline import spoken_texts

    print(f"voice_coach from {Path(listen.__file__).parents[2]}")
    routine = load("sciatica-relief")

    def silent(_text: str) -> Clip:
        return Clip(b"\0\0" * 100, SAMPLE_RATE)

    session = LiveSession(routine, SAMPLE_RATE, speak=silent)
    remote = Remote(session, Airtime(SAMPLE_RATE, LATENCY_S), silent, Path("/tmp"))
    ears = listen.Ears.for_routine(spoken_texts(routine))
    takes = stop_takes(args.quick)
    every: list[Trial] = []
    for seed in args.seeds:
        feed, placed = laid_out(takes, STOP_GAP_S, np.random.default_rng(seed))
        heard = heard_offline(through_microphone(feed), ears, remote)
        trials = stop_trials(placed, heard, lambda sample: sample / RATE)
        report_stop(f"seed {seed}", trials)
        every += trials
    # The target over all the takes: one seed's 16 takes a voice are part (4)'s few.
    passed = report_stop(f"seeds {', '.join(map(str, args.seeds))} together", every)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

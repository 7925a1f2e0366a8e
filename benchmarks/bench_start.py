"""Start-up benchmark: how long the light commands take, start to exit.

Run from the project root:

    .venv/bin/python -m benchmarks.bench_start

`voice-coach --help`, `version` and `list` are each run as a new process, as a
person runs them, 7 times; the median of the last 5 is compared with the target
(the first two warm the disk cache and the bytecode). Beside each: `python -c pass`
(the interpreter's own start, the floor) and the ratio to it. Bytecode is cached in a
private folder, as an installed package has it. Exits 1 if a target fails.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.15
RUNS, WARM_UP = 7, 2
COMMANDS = (["--help"], ["version"], ["list"])
VOICE_COACH = Path(sys.executable).parent / "voice-coach"


def wall_s(argv: list[str], env: dict[str, str]) -> float:
    """Median wall time of `argv` over the timed runs."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times[WARM_UP:])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="voice-coach-bench-start-") as tmp:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        for name in ("STATE", "DATA", "CONFIG"):
            env[f"VOICE_COACH_{name}"] = str(Path(tmp) / name.lower())
        floor = wall_s([sys.executable, "-c", "pass"], env)
        rows = [("python -c pass (the floor)", floor, None)]
        rows += [(f"voice-coach {' '.join(c)}", wall_s([str(VOICE_COACH), *c], env), TARGET_S)
                 for c in COMMANDS]  # fmt: skip
    failed = False
    print(f"{'command':<28} {'wall s':>7} {'/ floor':>8}  target")
    for label, seconds, target in rows:
        verdict = ""
        if target is not None:
            ok = seconds <= target
            failed |= not ok
            verdict = f"<= {target:g} s  {'PASS' if ok else 'FAIL'}"
        print(f"{label:<28} {seconds:7.3f} {seconds / floor:7.1f}x  {verdict}")
    print(f"median of the last {RUNS - WARM_UP} of {RUNS} runs each; load average "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

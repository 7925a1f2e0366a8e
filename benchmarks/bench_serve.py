"""Serve benchmark: latency of `voice-coach serve` under parallel range requests.

Run from the project root:

    .venv/bin/python -m benchmarks.bench_serve [--clients processes|threads]

The export folder (a temporary one) holds one 15 MiB file of random bytes named
`.mp3`, about 33 minutes of the 64 kbit/s MP3 that export writes: the server never
looks inside a file it sends, so a real MP3 would change nothing here. Two
`ExportServer`s serve it, each from a thread of this process (`serve_forever`): the
class as it is (listen backlog 128) and, the baseline, a subclass with the default
backlog of 5. 32 clients, each a process of its own unless `--clients threads`, ask
for random 64 KiB slices (`Range: bytes=a-b`) over a new connection each time, as a
phone's player does when it seeks. Every response must be 206 with the file's bytes.
A request's latency runs from before the connect to the last byte
(`time.perf_counter`). The two servers take turns, round by round, with the same
slices. Every figure is from this run. Exits 1 if the p99 of the server as it is
passes 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import mmap
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

FILE_BYTES = 15 * 2**20
SLICE_BYTES = 64 * 2**10
CLIENTS = 32
ROUNDS = 2
REQUESTS_PER_ROUND = 32
"""Per client and server: 32 clients x 32 requests x 2 rounds = 2,048 per server."""
P99_TARGET_MS = 100.0
BASELINE_BACKLOG = 5
"""`socketserver`'s default `request_queue_size`, which `ExportServer` overrides."""
WARM_UP_REQUESTS = 8
"""Sequential requests to each server before timing (first-use costs), not counted."""
TIMEOUT_S = 20.0
"""Per socket operation; a dropped SYN is sent again after 1, 3 and 7 s."""
HOST = "127.0.0.1"
FILE_NAME = "long-routine.mp3"
KERNEL_COUNTERS = ("ListenOverflows", "TCPSynRetrans")
"""TcpExt counters of /proc/net/netstat: packets of a new connection dropped because
the accept queue was full (a SYN, or the handshake's last ACK), and SYNs or SYN-ACKs
sent again because no answer came (after 1 s, then 3 s, ...)."""
STALL_S = 1.0
"""A request this slow waited for at least one retransmission."""

Batch = tuple[float, float, list[float], list[str]]
"""One client's share of a round: start and end (perf_counter s), latency of each
request in seconds, and a word for each bad response."""


# -- the clients ---------------------------------------------------------------------


def fetch(port: int, first: int, data: bytes | mmap.mmap) -> tuple[float, str | None]:
    """Latency of one range request on a new connection, and what was wrong, if anything."""
    last = first + SLICE_BYTES - 1
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", f"/{FILE_NAME}", headers={"Range": f"bytes={first}-{last}"})
        response = conn.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return time.perf_counter() - started, type(exc).__name__
    finally:
        conn.close()
    latency_s = time.perf_counter() - started
    if response.status != 206:
        return latency_s, f"status {response.status}"
    if response.getheader("Content-Range") != f"bytes {first}-{last}/{len(data)}":
        return latency_s, "wrong Content-Range"
    if body != data[first : last + 1]:
        return latency_s, "wrong bytes"
    return latency_s, None


def client(port: int, seed: int, data: bytes | mmap.mmap, barrier: Any) -> Batch:
    """One client's requests of a round, started with the others at the barrier."""
    rng = random.Random(seed)
    firsts = [rng.randrange(len(data) - SLICE_BYTES + 1) for _ in range(REQUESTS_PER_ROUND)]
    barrier.wait(TIMEOUT_S)
    started = time.perf_counter()
    latencies_s: list[float] = []
    errors: list[str] = []
    for first in firsts:
        latency_s, error = fetch(port, first, data)
        latencies_s.append(latency_s)
        if error is not None:
            errors.append(error)
    # A tuple, not a dataclass: a class of the main module would not unpickle in the
    # parent, where that module is `__main__` and not the child's `__mp_main__`.
    return started, time.perf_counter(), latencies_s, errors


def client_process(pipe: Connection, barrier: Any, path: Path) -> None:
    """Runs the rounds it is sent, (port, seed) each, until None."""
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        while (job := pipe.recv()) is not None:
            port, seed = job
            pipe.send(client(port, seed, data, barrier))


class Clients(Protocol):
    shares_process: bool
    """True if the clients run in this process, so its CPU time is not the servers' alone."""

    def round(self, port: int, seeds: Sequence[int]) -> list[Batch]:
        """One batch a seed, the clients all running at once."""
        ...


class ThreadClients:
    """Clients as threads of this process, sharing the GIL with the servers."""

    shares_process = True

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.barrier = threading.Barrier(CLIENTS)

    def round(self, port: int, seeds: Sequence[int]) -> list[Batch]:
        batches: list[Batch] = []  # list.append is atomic under the GIL
        threads = [
            threading.Thread(
                target=lambda s=seed: batches.append(client(port, s, self.data, self.barrier))
            )
            for seed in seeds
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return batches


@contextlib.contextmanager
def process_clients(path: Path) -> Iterator[Clients]:
    """Clients as processes, started once for all rounds; each maps the file to check
    the bytes it gets. Spawned, not forked: the servers' threads are running."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(CLIENTS)
    pipes, processes = [], []
    for _ in range(CLIENTS):
        ours, theirs = ctx.Pipe()
        process = ctx.Process(target=client_process, args=(theirs, barrier, path), daemon=True)
        process.start()
        pipes.append(ours)
        processes.append(process)

    class ProcessClients:
        shares_process = False

        def round(self, port: int, seeds: Sequence[int]) -> list[Batch]:
            for pipe, seed in zip(pipes, seeds, strict=True):
                pipe.send((port, seed))
            return [pipe.recv() for pipe in pipes]

    try:
        yield ProcessClients()
    finally:
        for pipe in pipes:
            pipe.send(None)
        for process in processes:
            process.join(TIMEOUT_S)


# -- measuring -----------------------------------------------------------------------


def parse_netstat(text: str) -> dict[str, int]:
    """The TcpExt counters of /proc/net/netstat (a line of names, then one of values)."""
    lines = [line.split() for line in text.splitlines()]
    for names, values in itertools.pairwise(lines):
        if names and names[0] == "TcpExt:" and values and values[0] == "TcpExt:":
            return {n: int(v) for n, v in zip(names[1:], values[1:], strict=True)}
    return {}


def kernel_counters() -> dict[str, int]:
    try:
        return parse_netstat(Path("/proc/net/netstat").read_text())
    except OSError:
        return {}


def process_cpu_s() -> float:
    """CPU time of this process, all threads, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Figures:
    label: str
    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0
    """Summed over rounds: first client start to last client end."""
    server_cpu_s: float | None = 0.0
    """This process's CPU time under load: the server's; None if the clients ran in it."""
    kernel: Counter[str] = field(default_factory=Counter)
    """Increase of each of KERNEL_COUNTERS while this server was under load."""

    def add(
        self,
        batches: list[Batch],
        cpu_s: float | None,
        before: dict[str, int],
        after: dict[str, int],
    ) -> None:
        self.wall_s += max(b[1] for b in batches) - min(b[0] for b in batches)
        for _, _, latencies_s, errors in batches:
            self.latencies_s += latencies_s
            self.errors.update(errors)
        if self.server_cpu_s is not None:
            self.server_cpu_s = None if cpu_s is None else self.server_cpu_s + cpu_s
        for name in KERNEL_COUNTERS:
            if name in before and name in after:
                self.kernel[name] += after[name] - before[name]

    def pct_ms(self, q: int) -> float:
        return statistics.quantiles(self.latencies_s, n=100, method="inclusive")[q - 1] * 1000

    def cells(self) -> list[str]:
        kernel = [str(self.kernel[n]) if n in self.kernel else "n/a" for n in KERNEL_COUNTERS]
        cpu_s = self.server_cpu_s
        cpu = "n/a" if cpu_s is None else f"{cpu_s * 1000 / len(self.latencies_s):.2f}"
        return [
            *(f"{self.pct_ms(q):.1f}" for q in (50, 90, 99)),
            f"{max(self.latencies_s) * 1000:.1f}",
            str(sum(latency_s >= STALL_S for latency_s in self.latencies_s)),
            f"{len(self.latencies_s) / self.wall_s:.0f}",
            cpu,
            str(sum(self.errors.values())),
            *kernel,
        ]


def warm_up(port: int, data: bytes) -> None:
    for i in range(WARM_UP_REQUESTS):
        _, error = fetch(port, i * SLICE_BYTES, data)
        if error is not None:
            raise SystemExit(f"warm-up request to port {port} failed: {error}")


@contextlib.contextmanager
def servers(folder: Path) -> Iterator[list[tuple[str, Any]]]:
    """The server as it is and the backlog-5 baseline, serving `folder` from threads."""
    # Imported here so the 32 spawned client processes, which only fetch, skip it.
    from voice_coach.serve.http import ExportServer

    class DefaultBacklog(ExportServer):
        request_queue_size = BASELINE_BACKLOG

    pairs = [
        (f"as it is (backlog {ExportServer.request_queue_size})", ExportServer(folder, (HOST, 0))),
        (f"baseline (backlog {BASELINE_BACKLOG})", DefaultBacklog(folder, (HOST, 0))),
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for _, s in pairs]
    for t in threads:
        t.start()
    try:
        yield pairs
    finally:
        for (_, server), t in zip(pairs, threads, strict=True):
            server.shutdown()
            server.server_close()
            t.join(TIMEOUT_S)


def measure(folder: Path, data: bytes, clients: Clients) -> list[Figures]:
    with servers(folder) as pairs:
        figures = [Figures(label) for label, _ in pairs]
        for _, server in pairs:
            warm_up(server.port, data)
        for r in range(ROUNDS):
            seeds = [r * CLIENTS + i for i in range(CLIENTS)]
            for f, (_, server) in zip(figures, pairs, strict=True):
                before, cpu_before_s = kernel_counters(), process_cpu_s()
                batches = clients.round(server.port, seeds)
                cpu_s = None if clients.shares_process else process_cpu_s() - cpu_before_s
                f.add(batches, cpu_s, before, kernel_counters())
    return figures


# -- report --------------------------------------------------------------------------


COLUMNS = (
    "p50 ms", "p90 ms", "p99 ms", "max ms", f">= {STALL_S:g} s", "req/s", "CPU ms/req",
    "errors", "overflows", "SYN again",
)  # fmt: skip


def print_table(figures: list[Figures]) -> bool:
    """The table; True if the server as it is meets the target."""
    ours = figures[0]
    label_width = max(len(f.label) for f in figures)
    print(
        f"{'server':<{label_width}}  "
        + " ".join(f"{c:>{len(c)}}" for c in COLUMNS)
        + f"  p99 / ours  p99 <= {P99_TARGET_MS:g} ms"
    )
    for f in figures:
        verdict = "PASS" if f.pct_ms(99) <= P99_TARGET_MS else "FAIL"
        print(
            f"{f.label:<{label_width}}  "
            + " ".join(f"{v:>{len(c)}}" for c, v in zip(COLUMNS, f.cells(), strict=True))
            + f"  {f.pct_ms(99) / ours.pct_ms(99):9.1f}x  "
            + (verdict if f is ours else f"({verdict}, no target)")
        )
    for f in figures:
        for error, count in f.errors.most_common():
            print(f"error ({f.label}): {error} x {count}")
    return ours.pct_ms(99) <= P99_TARGET_MS


def run(client_kind: str) -> int:
    started = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="voice-coach-bench-serve-") as tmp:
        folder = Path(tmp)
        path = folder / FILE_NAME
        data = random.Random(0).randbytes(FILE_BYTES)
        path.write_bytes(data)
        if client_kind == "threads":
            figures = measure(folder, data, ThreadClients(data))
        else:
            with process_clients(path) as clients:
                figures = measure(folder, data, clients)
    print(
        f"{CLIENTS} clients ({client_kind}), each a new connection a request for a random "
        f"{SLICE_BYTES // 1024} KiB range of a {FILE_BYTES // 2**20} MiB file; "
        f"{len(figures[0].latencies_s)} requests a server in {ROUNDS} rounds, taking turns"
    )
    ok = print_table(figures)
    print(
        f">= {STALL_S:g} s: requests that waited for a retransmission. CPU ms/req: the "
        "server's process (n/a with client threads in it). overflows, SYN again: the "
        "kernel's ListenOverflows and TCPSynRetrans (packets, whole machine) under load"
    )
    somaxconn = Path("/proc/sys/net/core/somaxconn")
    if somaxconn.exists():
        print(f"net.core.somaxconn (caps the backlog): {somaxconn.read_text().strip()}")
    load_after = os.getloadavg()
    print(
        "load average (1, 5, 15 min) before: "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in load_after)
    )
    print(f"benchmark wall time: {time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


# -- the page's "Make" after one changed hold ---------------------------------------

RERENDER_TARGET_S = 1.5
"""POST /api/exports of the sciatica routine with one hold changed, to the render done,
with a warm speech cache."""
RERENDER_ROUTINE, RERENDER_STEP = "sciatica-relief", "Knee hug"
RERENDER_HOLDS = (45, 50, 55, 40, 35, 65)
POLL_S = 0.02
"""Status polls while a render runs (the page polls every 400 ms; this measures the
render, not the page's polling)."""


def api_call(port: int, method: str, path: str, key: str, body: Any = None) -> Any:
    """A request as a program sends it: the key as a bearer token."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = json.loads(response.read() or b"null")
        if response.status >= 400:
            raise SystemExit(f"{method} {path}: {response.status} {payload}")
        return payload
    finally:
        conn.close()


def make(port: int, key: str, hold_s: int | None) -> float:
    """As the page does on a changed hold: ask for the routine's detail with it (the
    length it shows), then Make; seconds from the POST to the render done."""
    settings = {} if hold_s is None else {"hold": [f"{RERENDER_STEP}={hold_s}"]}
    query = "" if hold_s is None else "?" + urlencode({"hold": f"{RERENDER_STEP}={hold_s}"})
    api_call(port, "GET", f"/api/routines/{RERENDER_ROUTINE}{query}", key)
    start = time.perf_counter()
    render = api_call(
        port, "POST", "/api/exports", key, {"routine": RERENDER_ROUTINE, "settings": settings}
    )
    while render["state"] in ("queued", "running"):
        time.sleep(POLL_S)
        render = api_call(port, "GET", f"/api/exports/{render['id']}", key)
    if render["state"] != "done":
        raise SystemExit(f"the render failed: {render}")
    return time.perf_counter() - start


def serve_child(folder: Path) -> None:
    """A server in a process of its own, as `voice-coach serve` runs: prints its port
    and key, serves until its stdin closes."""
    from voice_coach.serve.http import ExportServer

    server = ExportServer(folder, (HOST, 0))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1], "key": server.key}), flush=True)
    sys.stdin.read()


@contextlib.contextmanager
def server_process(folder: Path) -> Iterator[tuple[int, str]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_serve", "--serve-child", str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        started = json.loads(child.stdout.readline())
        yield started["port"], started["key"]
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)


def rerender() -> int:
    """The page's re-render of the sciatica routine with one changed hold, on a real
    server in a process of its own, every line already in the (private) speech cache."""
    with tempfile.TemporaryDirectory(prefix="voice-coach-bench-rerender-") as tmp_name:
        tmp = Path(tmp_name)
        for name in ("CACHE", "STATE", "DATA", "CONFIG"):
            os.environ[f"VOICE_COACH_{name}"] = str(tmp / name.lower())
        load = os.getloadavg()[0]
        # Warm the speech cache for every hold measured (each changes a spoken line).
        with server_process(tmp / "warm") as (port, key):
            for hold_s in (None, *RERENDER_HOLDS):
                make(port, key, hold_s)
        with server_process(tmp / "exports") as (port, key):
            first = make(port, key, None)  # the first render of a fresh server
            times = [make(port, key, hold_s) for hold_s in RERENDER_HOLDS]
    worst = max(times)
    ok = worst <= RERENDER_TARGET_S
    print(f"first render of a fresh server (the routine as it is): {first:.2f} s")
    print(
        f"re-render with {RERENDER_STEP} changed, {len(times)} holds: "
        + ", ".join(f"{t:.2f}" for t in times)
        + f" s; median {statistics.median(times):.2f}, max {worst:.2f} s"
    )
    print(f"target: max <= {RERENDER_TARGET_S} s: {'PASS' if ok else 'FAIL'}")
    print(f"load average before {load:.2f}, after {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clients",
        choices=("processes", "threads"),
        default="processes",
        help="run the 32 clients as processes (default) or as threads beside the servers",
    )
    parser.add_argument("--serve-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--rerender",
        action="store_true",
        help="instead: the page's re-render of the sciatica routine with one hold changed",
    )
    args = parser.parse_args(argv)
    if args.serve_child:
        serve_child(args.serve_child)
        return 0
    if args.rerender:
        return rerender()
    return run(args.clients)


if __name__ == "__main__":
    sys.exit(main())

"""The one way voice_coach runs external programs (ffmpeg, espeak-ng).

A missing program or a failure becomes a `ToolError` that names the Debian
package to install and quotes the program's own stderr. Three shapes: `run` (to
completion), `feeding` (we stream into its stdin), `Reading` (we read its stdout as
it comes, and may stop it early).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import IO, BinaryIO

from .errors import ToolError

PACKAGES = {"ffmpeg": "ffmpeg", "ffprobe": "ffmpeg", "espeak-ng": "espeak-ng"}


def require(program: str) -> str:
    """Full path of `program`, or a `ToolError` saying how to install it."""
    path = shutil.which(program)
    if path is None:
        package = PACKAGES.get(program, program)
        raise ToolError(
            f"{program} is not installed; install it with `sudo apt-get install {package}` "
            f"(macOS: `brew install {package}`)"
        )
    return path


def _failure(args: Sequence[str], code: int, stderr: bytes) -> ToolError:
    detail = stderr.decode("utf-8", "replace").strip().splitlines()
    tail = " | ".join(detail[-3:]) if detail else "no error output"
    return ToolError(f"{args[0]} failed (exit code {code}): {tail}")


def run(args: Sequence[str], input_bytes: bytes | None = None, timeout_s: float = 120) -> bytes:
    """Run a program to completion and return its stdout."""
    argv = [require(args[0]), *args[1:]]
    try:
        done = subprocess.run(
            argv, input=input_bytes, capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{args[0]} did not finish within {timeout_s:g} s") from None
    if done.returncode != 0:
        raise _failure(args, done.returncode, done.stderr)
    return done.stdout


@contextmanager
def feeding(args: Sequence[str]) -> Iterator[IO[bytes]]:
    """Run a program and yield its stdin to stream into; on exit wait and check it.

    stderr goes to a temporary file rather than a pipe, so a chatty program can
    never block while we are still writing to it.
    """
    argv = [require(args[0]), *args[1:]]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        assert proc.stdin is not None
        broken = False
        try:
            yield proc.stdin
            proc.stdin.close()
        except BrokenPipeError:
            broken = True  # it stopped reading; its exit code and stderr say why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        code = proc.wait()
        if code != 0 or broken:
            err.seek(0)
            raise _failure(args, code, err.read())


class Reading:
    """A program started now whose stdout is read as it comes (`read`), as a decoder
    that runs ahead of what is needed. `close` stops it early, which is no failure;
    a failure is only a non-zero exit once its output has ended: `read` then raises
    `ToolError` with its stderr (kept in a temporary file, so a chatty program never
    blocks on it). If `fed`, its stdin is a pipe, `stdin`, for another thread to write
    and close while this one reads (a decoder of a file as it is written)."""

    def __init__(self, args: Sequence[str], fed: bool = False) -> None:
        self.args = list(args)
        argv = [require(args[0]), *args[1:]]
        self._err: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close)
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if fed else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._err,
            )
        except BaseException:
            self._err.close()
            raise
        assert self._proc.stdout is not None
        self.stdin: IO[bytes] | None = self._proc.stdin
        self._out: IO[bytes] = self._proc.stdout
        self._closed = False

    def read(self, n: int) -> bytes:
        """Up to `n` bytes: fewer only at the end of the output, then b"" from there on."""
        if self._closed or n <= 0:
            return b""
        data = self._out.read(n)
        if len(data) < n:
            code = self._proc.wait()
            if code != 0:
                self._err.seek(0)
                failure = _failure(self.args, code, self._err.read())
                self.close()
                raise failure
        return data

    def kill(self) -> None:
        """Stop the program now, from any thread: `read` then ends (with a `ToolError`
        unless the program had already finished). `close` still frees its pipes."""
        if self._proc.poll() is None:
            self._proc.kill()

    def close(self) -> None:
        """Stop the program (if still running) and free its pipes. Closing again does
        nothing."""
        if self._closed:
            return
        self._closed = True
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._out.close()
        self._err.close()
        if self.stdin is not None:
            with suppress(OSError):  # a pipe it never read: nothing to flush to
                self.stdin.close()

"""The one subprocess wrapper: a failure is a `ToolError` quoting the program's stderr;
a program read as it runs may be stopped early without that being a failure."""

from __future__ import annotations

import sys
import threading

import pytest

from voice_coach import proc
from voice_coach.errors import ToolError


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_reading_gives_the_output_as_it_comes_then_nothing() -> None:
    reading = proc.Reading(python("import sys; sys.stdout.buffer.write(b'abcdef')"))
    assert reading.read(4) == b"abcd"
    assert reading.read(4) == b"ef"
    assert reading.read(4) == b""
    reading.close()
    reading.close()  # twice: nothing happens


def test_a_failure_is_raised_once_the_output_has_ended_with_its_stderr() -> None:
    code = "import sys; sys.stdout.buffer.write(b'ab'); sys.stdout.flush(); "
    code += "sys.exit('the input vanished')"
    reading = proc.Reading(python(code))
    with pytest.raises(ToolError, match=r"exit code 1\): the input vanished"):
        reading.read(100)
    assert reading.read(100) == b""  # closed by the failure


def test_stopping_a_program_early_is_not_a_failure() -> None:
    reading = proc.Reading(python("import sys\nwhile True: sys.stdout.buffer.write(b'x' * 4096)"))
    assert reading.read(10) == b"x" * 10
    reading.close()
    assert reading.read(10) == b""


def test_a_missing_program_says_how_to_install_it() -> None:
    with pytest.raises(ToolError, match="is not installed"):
        proc.Reading(["voice-coach-no-such-program"])


def test_a_fed_program_is_written_by_one_thread_and_read_by_another() -> None:
    reading = proc.Reading(
        python("import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"), fed=True
    )
    assert reading.stdin is not None
    writer = threading.Thread(target=lambda: (reading.stdin.write(b"abc"), reading.stdin.close()))
    writer.start()
    assert reading.read(10) == b"cba"
    writer.join()
    reading.close()


def test_a_killed_program_ends_the_read_with_a_failure() -> None:
    reading = proc.Reading(
        python(
            "import sys, time\nsys.stdout.buffer.write(b'ab'); sys.stdout.flush(); time.sleep(60)"
        )
    )
    assert reading.read(2) == b"ab"
    reading.kill()
    with pytest.raises(ToolError, match="exit code -9"):
        reading.read(10)
    reading.kill()  # once ended: nothing happens
    reading.close()

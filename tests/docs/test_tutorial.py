"""docs/tutorial.md runs as written: every command, every file, every output it shows.

The tutorial marks what is runnable in ways a reader does not notice:

- a ```python or ```yaml block whose first line is a comment naming a file
  (``# papers/digits-demo/train.py``) is that file's whole content;
- a ```diff block (``--- a/PATH``, ``+++ b/PATH``, then ``-``/``+``/context lines) is an edit
  of that file;
- in a ```console block each ``$ `` line is a command, run in a fresh folder in order, and
  the lines under it are output it must print, in that order (``...`` alone on a line
  leaves lines out, ``…`` inside a line stands for anything, and runs of spaces count as
  one). ``$ echo $?`` shows the exit status of the command before it.

Set ``TUTORIAL_SHOW=1`` to print what each command printed, when the tutorial needs updating.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FILE_COMMENT = re.compile(r"#\s*(\S+\.(?:py|yaml|yml|toml|cfg|ini|txt))\s*$")


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Step:
    """One runnable block: a file to write, a diff to apply, or a console session."""

    kind: str  # "file", "diff" or "console"
    path: str = ""
    text: str = ""
    commands: list[Command] = field(default_factory=list)


def steps(markdown: str) -> list[Step]:
    """The runnable blocks of a Markdown page, in order."""
    found: list[Step] = []
    for match in FENCE.finditer(markdown):
        lang, body = match.group(1), match.group(2)
        first = body.splitlines()[0] if body else ""
        if lang in ("python", "yaml") and (named := FILE_COMMENT.match(first)):
            found.append(Step("file", path=named.group(1), text=body))
        elif lang == "diff" and first.startswith("--- a/"):
            found.append(Step("diff", path=first[len("--- a/") :].strip(), text=body))
        elif lang == "console":
            commands: list[Command] = []
            for line in body.splitlines():
                if line.startswith("$ "):
                    commands.append(Command(line[2:]))
                elif commands:
                    commands[-1].expected.append(line)
            found.append(Step("console", commands=commands))
    return found


def apply_diff(text: str, diff: str) -> str:
    """Apply a unified diff's hunks by content (line numbers are not needed)."""
    old: list[str] = []
    new: list[str] = []
    hunks: list[tuple[list[str], list[str]]] = []
    for line in diff.splitlines()[2:]:
        if line.startswith("@@"):
            if old or new:
                hunks.append((old, new))
            old, new = [], []
        elif line.startswith("-"):
            old.append(line[1:])
        elif line.startswith("+"):
            new.append(line[1:])
        else:
            context = line[1:] if line.startswith(" ") else line
            old.append(context)
            new.append(context)
    hunks.append((old, new))
    for before, after in hunks:
        was, will = "\n".join(before) + "\n", "\n".join(after) + "\n"
        assert text.count(was) == 1, f"the diff's lines are not in the file once:\n{was}"
        text = text.replace(was, will)
    return text


def _squash(line: str) -> str:
    return " ".join(line.split())


def _pattern(expected: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in _squash(expected).split("…")]
    return re.compile("^" + ".*".join(parts) + "$")


def missing_lines(expected: list[str], output: str) -> list[str]:
    """The expected lines not found in the output, in order; ``...`` lines are skipped."""
    actual = [_squash(line) for line in output.splitlines()]
    at = 0
    missing: list[str] = []
    for line in expected:
        if line.strip() in ("", "..."):
            continue
        pattern = _pattern(line)
        for i in range(at, len(actual)):
            if pattern.match(actual[i]):
                at = i + 1
                break
        else:
            missing.append(line)
    return missing


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "REPRO_"))}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["COLUMNS"] = "80"
    return env


def test_the_tutorial_has_files_a_fix_and_commands() -> None:
    found = steps(TUTORIAL.read_text(encoding="utf-8"))
    kinds = [s.kind for s in found]
    assert kinds.count("file") >= 2
    assert "diff" in kinds
    lines = [c.line for s in found for c in s.commands]
    assert any(line.startswith("pytest-repro new ") for line in lines)
    assert any("--repro-smoke" in line for line in lines)
    assert any(line.startswith("pytest-repro verify") for line in lines)


def test_a_diff_is_applied_by_its_lines_and_refuses_lines_it_cannot_find() -> None:
    diff = "--- a/t.py\n+++ b/t.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n"
    assert apply_diff("x = 1\ny = 2\nz = 4\n", diff) == "x = 1\ny = 3\nz = 4\n"
    with pytest.raises(AssertionError):
        apply_diff("x = 1\ny = 5\n", diff)


def test_expected_output_matches_in_order_with_ellipses() -> None:
    output = "a 1.5 s\nverdict [matched]\n==== 2 passed in 3.1s ====\n"
    assert missing_lines(["a … s", "...", "==== 2 passed in … ===="], output) == []
    assert missing_lines(["verdict [matched]", "a … s"], output) == ["a … s"]


def test_every_command_of_the_tutorial_prints_what_the_tutorial_shows(tmp_path: Path) -> None:
    show = os.environ.get("TUTORIAL_SHOW") == "1"
    env = _environment()
    failures: list[str] = []
    status = 0
    for step in steps(TUTORIAL.read_text(encoding="utf-8")):
        if step.kind == "file":
            target = tmp_path / step.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.text, encoding="utf-8")
            continue
        if step.kind == "diff":
            target = tmp_path / step.path
            target.write_text(apply_diff(target.read_text(encoding="utf-8"), step.text), "utf-8")
            continue
        for command in step.commands:
            if command.line.strip() == "echo $?":
                output = f"{status}\n"
            else:
                done = subprocess.run(
                    ["bash", "-c", command.line],
                    cwd=tmp_path,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                status, output = done.returncode, done.stdout + done.stderr
            if show:
                print(f"$ {command.line}\n{output}")
            missing = missing_lines(command.expected, output)
            if missing:
                failures.append(
                    f"$ {command.line}\nmissing (in this order): {missing}\nprinted:\n{output}"
                )
    assert failures == [], "\n\n".join(failures)

"""Every `teahub` command the README shows exists with the options it is shown with (so an operator can type
it as written). Commands are parsed by the real CLI, not run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main

from teahub.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands() -> list[str]:
    """Lines of the README's shell blocks that run teahub (after a pipe, `.venv/bin/` or a path prefix)."""
    found = []
    blocks = re.finditer(r"^```(\w*)\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    for block in (b.group(2) for b in blocks if b.group(1) in ("sh", "bash", "ini")):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            match = re.search(r"(?:^|\| |&& )(?:\S*/)?teahub ((?:[^|&;<>]|<[^>]*>)+)", line)
            if match:
                found.append(match.group(1).strip())
    return found


def _parse(args: list[str]) -> None:
    """Parse as the CLI would, down to the sub-command; a wrong command or option raises a TyperException."""
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("teahub", list(args))
    while hasattr(command, "resolve_command") and ctx._protected_args + ctx.args:
        rest = ctx._protected_args + ctx.args
        name, sub, remaining = command.resolve_command(ctx, rest)
        assert sub is not None, f"no command {name}"
        command, ctx = sub, sub.make_context(name or "", remaining, parent=ctx)


def test_the_readme_shows_the_production_commands() -> None:
    commands = _commands()
    assert any(c.startswith("serve") and "--workers" in c for c in commands)
    assert any(c.startswith("worker run") for c in commands)
    assert any(c.startswith("backup") for c in commands)


def test_a_wrong_command_would_be_caught() -> None:
    with pytest.raises(typer.TyperException):
        _parse(["serve", "--no-such-option"])
    with pytest.raises(typer.TyperException):
        _parse(["init", "extra"])
    with pytest.raises((typer.TyperException, AssertionError)):
        _parse(["sync", "no-such-command"])


@pytest.mark.parametrize("line", _commands())
def test_each_readme_command_parses(line: str) -> None:
    # Placeholders such as $(date +%F) or <...> stand for values; give the parser a value in their place.
    args = [re.sub(r"\$\([^)]*\)|<[^>]*>", "X", word) for word in shlex.split(line.replace("$(date +%F)", "X"))]
    _parse(args)

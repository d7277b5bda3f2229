"""Every ``python main.py ...`` command the README shows parses with the command line as it is now."""

from __future__ import annotations

import re
import shlex

import pytest

from main import build_parser, with_default_command
from tests.conftest import REPO_ROOT


def readme_commands() -> list[str]:
    """The ``python main.py`` commands of the README's code blocks and inline code, without
    comments and optional ``[...]`` parts; lines with placeholders (``<...>``, ``...``) are left out."""
    text = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S) + re.findall(r"`(python main\.py[^`]*)`", text)
    out = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if not line.startswith("python main.py") or "<" in line or "..." in line:
                continue
            out.append(re.sub(r"\[[^\]]*\]", "", line))
    return out


def test_the_readme_shows_commands() -> None:
    assert len(readme_commands()) >= 30


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_parses(command: str) -> None:
    argv = with_default_command(shlex.split(command)[2:])
    try:
        build_parser(argv).parse_args(argv)
    except SystemExit as exc:  # argparse's way of saying "bad usage"
        pytest.fail(f"README command does not parse: {command} (exit {exc.code})")

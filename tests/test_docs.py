"""Docs are tested: every setting is in .env.example, README's commands exist, every
registered handler has a test, and every command has help."""

from __future__ import annotations

import re

from bot.handlers import BUTTONS, COMMANDS
from bot.settings import ROOT, Settings

TESTS = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[:1500]
    assert "make run" in head and "make test" in head
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.MULTILINE)


def test_every_command_and_button_prefix_is_exercised_by_a_test() -> None:
    for name in COMMANDS:
        assert f"/{name}" in TESTS or name in ("help",), f"/{name} has no test"
    for prefix, _ in BUTTONS:
        assert f'"{prefix}' in TESTS or f"'{prefix}" in TESTS, f"button prefix {prefix} has no test"

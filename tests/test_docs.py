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


def _deployment(lang: str) -> str:
    return (ROOT / "docs" / f"deployment.{lang}.md").read_text(encoding="utf-8")


def _metric_names() -> set[str]:
    from bot import metrics

    names = set()
    for name in metrics.__all__:
        m = getattr(metrics, name)
        if hasattr(m, "_type"):
            names.add(m._name + ("_total" if m._type == "counter" else ""))
    return names


def test_deployment_guides_say_the_same_in_both_languages() -> None:
    en, vi = _deployment("en"), _deployment("vi")
    for pattern in (r"`([A-Z][A-Z0-9_]{3,})`", r"`(cdsbot [a-z]+(?: [a-z-]+)?)", r"(deploy/[\w@.-]+)", r"(cdsbot_[a-z_]+)"):
        assert set(re.findall(pattern, en)) == set(re.findall(pattern, vi)), pattern
    for setting in ("LOG_FORMAT", "METRICS_TOKEN", "QUESTION_RETENTION_DAYS", "ZALO_OA_APP_ID", "ZALO_APP_SECRET",
                    "ZALO_OA_SECRET_KEY", "ZALO_OA_ACCESS_TOKEN", "ZALO_OA_REFRESH_TOKEN", "ZALO_OA_API_BASE_URL",
                    "ZALO_OAUTH_BASE_URL", "TELEGRAM_WEBHOOK_SECRET", "ZALO_BOT_WEBHOOK_SECRET"):
        assert f"`{setting}`" in en, setting
    for command in ("cdsbot db backup", "cdsbot db restore", "cdsbot kb export", "cdsbot maintenance purge", "pg_dump"):
        assert command in en, command
    assert _metric_names() <= set(re.findall(r"(cdsbot_[a-z_]+)", en)), _metric_names() - set(re.findall(r"(cdsbot_[a-z_]+)", en))


def test_unit_runs_unprivileged_and_restarts_on_failure() -> None:
    for unit in ("cdsbot.service", "cdsbot@.service"):
        text = (ROOT / "deploy" / unit).read_text(encoding="utf-8")
        assert re.search(r"^User=cdsbot$", text, re.MULTILINE) and re.search(r"^Restart=on-failure$", text, re.MULTILINE)
        assert re.search(r"^KillSignal=SIGTERM$", text, re.MULTILINE) and "ExecStart=/opt/cdsbot/.venv/bin/cdsbot run" in text


def test_alert_rules_use_only_metrics_that_exist() -> None:
    import yaml

    rules = yaml.safe_load((ROOT / "deploy" / "prometheus-alerts.yml").read_text(encoding="utf-8"))
    used = {re.sub(r"_bucket$", "", m) for r in rules["groups"][0]["rules"] for m in re.findall(r"cdsbot_[a-z_]+", r["expr"])}
    assert used and used <= _metric_names(), used - _metric_names()

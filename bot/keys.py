"""The two secrets every installation needs, made on the first start when the
environment does not set them:

- `RESIDENT_ID_SALT` salts the resident hashes of the question log (with a known salt,
  the hash of a small Telegram id is found by trying every id);
- `ADMIN_SECRET_KEY` signs the admin site's session cookies (a new one at every start
  would sign everybody out).

`cdsbot run` keeps them in `secrets.json` in the data directory (the SQLite file's
folder; `data/` beside `knowledge/` for PostgreSQL), readable by its owner only (0600),
and reuses them at every start; the other commands read the file when it exists. A
value set in the environment always wins. The old default salt `change-me` is refused
in production (PostgreSQL, a channel token, or a non-loopback HOST); several workers on
PostgreSQL must share both values through the environment (docs/deployment.*.md).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import ROOT, Settings

__all__ = ["DEFAULT_SALT", "FILE_NAME", "SecretsError", "data_dir", "resolve"]

logger = logging.getLogger(__name__)
DEFAULT_SALT = "change-me"
FILE_NAME = "secrets.json"
NAMES = ("resident_id_salt", "admin_secret_key")


class SecretsError(Exception):
    """The secrets cannot be used as they are; the message says why (Vietnamese and English)."""


def data_dir(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent
    return ROOT / "data"


def production(settings: Settings) -> bool:
    """Serving real residents: PostgreSQL, a channel token, or listening beyond loopback."""
    return (settings.database_url.startswith("postgresql") or bool(settings.telegram_bot_token or settings.zalo_bot_token)
            or settings.zalo_oa_enabled or settings.host not in ("127.0.0.1", "localhost", "::1"))


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SecretsError(f"Không đọc được {path} (cannot read the secrets file): {exc}") from exc
    return {k: str(v) for k, v in data.items() if k in NAMES and v} if isinstance(data, dict) else {}


def _write(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(values, f, indent=1)
    os.chmod(partial, 0o600)
    os.replace(partial, path)


def resolve(settings: Settings, *, create: bool) -> Settings:
    """Settings with both secrets filled in: from the environment, else from the data
    directory's file (made, with fresh random values, when `create`)."""
    salt_set = "resident_id_salt" in settings.model_fields_set and settings.resident_id_salt
    if create and salt_set and settings.resident_id_salt == DEFAULT_SALT:
        if production(settings):
            raise SecretsError("RESIDENT_ID_SALT vẫn là giá trị mặc định 'change-me': hãy xoá dòng đó để trợ lý tự tạo, hoặc đặt một "
                            "chuỗi ngẫu nhiên dài (RESIDENT_ID_SALT is the default 'change-me': remove it to have one generated, "
                            "or set a long random value).")
        logger.warning("RESIDENT_ID_SALT is the default 'change-me': acceptable for a local trial only")
    missing = [name for name in NAMES if not (getattr(settings, name) and (name != "resident_id_salt" or salt_set))]
    if not missing:
        return settings
    path = data_dir(settings) / FILE_NAME
    stored = _read(path)
    if create and any(name not in stored for name in missing):
        stored = {**{name: secrets.token_urlsafe(32) for name in NAMES}, **stored}
        _write(path, stored)
        logger.warning("%s made in %s (owner-only); keep it with the backups", ", ".join(n.upper() for n in missing), path)
        if settings.database_url.startswith("postgresql"):
            logger.warning("PostgreSQL: set RESIDENT_ID_SALT and ADMIN_SECRET_KEY in the environment of every worker, "
                           "the same values (see %s)", path)
    elif create and path.exists():
        os.chmod(path, 0o600)
    return settings.model_copy(update={name: stored[name] for name in missing if name in stored})

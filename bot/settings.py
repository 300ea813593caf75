"""Settings, read from the environment and an optional `.env` file (pydantic-settings).

Every setting is documented in `.env.example`; `tests/test_docs.py` checks that the
two stay in step. Secrets (tokens) come only from here and are never logged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The repository root (the folder holding `knowledge/`), for defaults.
ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """The assistant's settings. Names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{ROOT / 'data' / 'cdsbot.sqlite3'}",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    knowledge_dir: Path = Field(default=ROOT / "knowledge", description="Folder of the knowledge base files")
    host: str = Field(default="127.0.0.1", description="Address the web app listens on")
    port: int = Field(default=8080, description="Port the web app listens on")

    answer_threshold: float = Field(default=64.0, description="Confidence (0-100) at or above which the assistant answers")
    suggest_threshold: float = Field(default=48.0, description="Confidence (0-100) at or above which it offers 'did you mean'")
    match_classifier: bool = Field(
        default=True,
        description="Learned second opinion in matching (bot/classifier.py, scikit-learn): answered-correct +2-5 points "
        "on every evaluation set, held-back ones included; a few seconds of training when the entries change",
    )
    match_worker: bool = Field(
        default=True,
        description="Match questions in a worker process, leaving the serving process's core to the channels (false: match in process)",
    )

    telegram_bot_token: str = Field(default="", description="Telegram bot token from @BotFather (empty: Telegram off)")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", description="Bot API base URL, as python-telegram-bot's base_url takes it"
    )
    telegram_webhook_url: str = Field(default="", description="Public HTTPS URL of /telegram/webhook (empty: long polling)")
    telegram_webhook_secret: str = Field(
        default="", description="secret_token checked on every webhook call: required with TELEGRAM_WEBHOOK_URL, 1-256 of A-Z a-z 0-9 _ -"
    )

    telegram_poll_timeout: int = Field(default=25, description="Seconds a getUpdates long poll waits for new messages")

    telegram_concurrency: int = Field(
        default=0, ge=0, le=256,
        description="Telegram updates handled at once (a resident's own messages stay in order); also the most answers sent twice "
                    "after a crash. 0: 128 on SQLite, 32 on PostgreSQL (where each holds a connection for its resident's lock)",
    )
    telegram_order_wait: float = Field(
        default=2.0, ge=0, le=60,
        description="Webhook mode: seconds an update waits at most for an earlier update still on its way (Telegram posts over several connections), so a resident's messages are handled in update_id order",
    )
    telegram_broadcast_rate: float = Field(default=25.0, description="Campaign messages per second on Telegram (all chats together)")
    campaign_approval_required: bool = Field(default=False, description="A team's campaign waits for a city editor's approval before it is sent")
    zalo_order_wait: float = Field(
        default=0.5, ge=0, le=10,
        description="Zalo: seconds, by the event's own time, a resident's message waits before it is handled, so an earlier one still on its way (to this worker or another) goes first",
    )
    zalo_broadcast_rate: float = Field(default=5.0, description="Campaign messages per second on Zalo (Bot Platform and OA each)")

    zalo_bot_token: str = Field(default="", description="Zalo Bot Platform token (empty: Zalo bot off)")
    zalo_bot_api_base_url: str = Field(default="https://bot-api.zaloplatforms.com", description="Zalo Bot API base URL; the client calls {base}/bot{token}/{method}")
    zalo_bot_webhook_url: str = Field(default="", description="Public HTTPS URL of /zalo/bot/webhook (empty: long polling)")
    zalo_bot_webhook_secret: str = Field(default="", description="secret_token (8-256 characters) checked on every Zalo Bot webhook call")
    zalo_bot_poll_interval: float = Field(default=1.0, description="Seconds at least between two Zalo Bot getUpdates calls")
    zalo_bot_poll_timeout: int = Field(default=30, description="Seconds a Zalo Bot getUpdates long poll waits")

    zalo_oa_app_id: str = Field(default="", description="Zalo app id linked to the Official Account (empty: Zalo OA off)")
    zalo_app_secret: str = Field(default="", description="Zalo app secret key (secret_key header of the OAuth token calls)")
    zalo_oa_secret_key: str = Field(default="", description="OA secret key that signs webhook events (X-ZEvent-Signature); not the app secret")
    zalo_oa_access_token: str = Field(default="", description="First OA access token (later ones are refreshed and kept in the database)")
    zalo_oa_refresh_token: str = Field(default="", description="First OA refresh token (single-use; rotated tokens are kept in the database)")
    zalo_oa_api_base_url: str = Field(default="https://openapi.zalo.me", description="Zalo OA Open API base URL")
    zalo_oauth_base_url: str = Field(default="https://oauth.zaloapp.com", description="Zalo OAuth base URL (token refresh)")
    zalo_site_verification: str = Field(
        default="",
        description="Content of the zalo-platform-site-verification meta tag from Zalo's domain verification, served on the home page (empty: none)",
    )

    team_target_hours: int = Field(default=8, description="Working hours within which a Tổ CNS aims to answer (told to residents)")
    team_working_hours: str = Field(default="07:30-17:00", description="Working hours of the teams (Asia/Ho_Chi_Minh); reminders only then")
    team_working_days: str = Field(default="1-5", description="Working days of the teams, ISO weekday numbers (1 = Monday)")
    ticket_check_seconds: int = Field(default=60, description="How often unclaimed tickets are checked for reminders and escalation")
    flood_messages_per_minute: int = Field(default=20, description="Messages a resident may send per minute before a polite slow-down reply")
    web_chat_origins: str = Field(default="", description="Comma-separated origins allowed to call the web chat API (CORS); empty: same origin only")

    admin_secret_key: str = Field(
        default="", description="Key that signs admin-site session cookies (empty: made on the first start and kept in the data directory's secrets.json)")
    admin_password: str = Field(default="", description="Password of the first admin account 'admin' (empty: generated and printed once)")

    question_retention_days: int = Field(
        default=365, ge=0,
        description="Days question-log rows and ticket texts are kept before they become anonymous daily counts (0: kept forever)",
    )

    resident_id_salt: str = Field(
        default="change-me",
        description="Salt for hashing resident ids in the question log (empty: made on the first start and kept in the data directory's secrets.json; 'change-me' is refused in production)",
    )
    log_level: str = Field(default="INFO", description="Logging level: DEBUG, INFO, WARNING, ERROR")
    log_format: Literal["text", "json"] = Field(default="text", description="Log lines as readable text, or one JSON object per line (json)")
    metrics_token: str = Field(
        default="", description="Bearer token that /metrics requires (empty: /metrics answers only direct requests from 127.0.0.1)"
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
            raise ValueError(
                "DATABASE_URL phải bắt đầu bằng sqlite+aiosqlite:// hoặc postgresql+asyncpg:// "
                f"(must start with sqlite+aiosqlite:// or postgresql+asyncpg://), got {value.split(':', 1)[0]}://…"
            )
        return value

    @field_validator("zalo_site_verification")
    @classmethod
    def _verification_code(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,200}", value):
            raise ValueError("ZALO_SITE_VERIFICATION là giá trị content của thẻ meta Zalo cấp, chỉ gồm chữ, số, _ và - "
                             "(only the content value of Zalo's meta tag: letters, digits, _ and -)")
        return value

    @model_validator(mode="after")
    def _telegram_webhook_has_a_secret(self) -> "Settings":
        # Telegram sends the secret back on every webhook call; without one every call
        # would be refused (Bot API setWebhook: secret_token, 1-256 of A-Z a-z 0-9 _ -).
        if self.telegram_webhook_url and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", self.telegram_webhook_secret):
            raise ValueError(
                "TELEGRAM_WEBHOOK_URL cần TELEGRAM_WEBHOOK_SECRET gồm 1-256 ký tự A-Z a-z 0-9 _ - "
                "(webhook mode needs TELEGRAM_WEBHOOK_SECRET: 1-256 of A-Z a-z 0-9 _ -, e.g. `openssl rand -hex 32`)"
            )
        return self

    @field_validator("suggest_threshold")
    @classmethod
    def _ordered(cls, value: float) -> float:
        if not 0 <= value <= 100:
            raise ValueError("thresholds are on a 0-100 scale")
        return value

    @property
    def zalo_oa_enabled(self) -> bool:
        """The OA adapter runs when its app id, webhook secret key and a token are set."""
        return bool(self.zalo_oa_app_id and self.zalo_oa_secret_key and (self.zalo_oa_access_token or self.zalo_oa_refresh_token))

    @property
    def lexicon_dir(self) -> Path:
        return self.knowledge_dir / "lexicon"

    @property
    def chitchat_path(self) -> Path:
        return self.knowledge_dir / "chitchat.yaml"

    @property
    def glossary_path(self) -> Path:
        return self.knowledge_dir / "english" / "glossary.yaml"

    @property
    def entries_dir(self) -> Path:
        return self.knowledge_dir / "entries"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings(...)`)."""
    return Settings()

"""The Zalo Official Account Open API v3, over the project's own httpx client.

What is here, each in one place (see `shared/reference/zalo-api.md` §2):
- `signature` / `check_signature`: the webhook's `X-ZEvent-Signature`, which is
  `mac=` + SHA-256 (plain, not HMAC) of app_id + raw body + timestamp + OA secret key,
  app_id and timestamp taken from the body.
- `ERRORS`: every documented error code mapped to what the assistant does about it.
- `TokenStore`: the OAuth v4 tokens. Access tokens last 25 h; refresh tokens are
  single-use and rotated, so both new tokens are written in one UPDATE, guarded by a
  version number, and on PostgreSQL under a row lock: two processes (or two tasks)
  refreshing at once make one call to Zalo and both end with the new tokens.
- `ZaloOAClient`: calls with the `access_token` header, unwraps `{error, message, data}`
  (errors come with HTTP 200), refreshes once and retries once on -216/-220.

Tokens and secrets are never logged; httpx's logger is kept at WARNING by the app.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.channels.base import Outcome
from bot.clock import now as utcnow
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import ZaloOAToken

__all__ = ["ERRORS", "TokenError", "TokenStore", "ZaloOAClient", "ZaloOAError", "action_for", "check_signature", "signature"]

logger = logging.getLogger(__name__)

#: Events older than this are refused. Zalo resends an event its webhook did not answer
#: with 200 for hours (30 s, 5 min, 15 min, 30 min, 1 h later: about 1.8 h in all, then it
#: disables the webhook), with the first delivery's timestamp and signature, so a shorter
#: bound would refuse residents' messages after an outage. Inside the bound a replayed
#: event is answered once: the inbox keeps every `msg_id` for `RAW_KEEP` (7 days,
#: bot/reports/retention.py), longer than this.
MAX_EVENT_AGE = dt.timedelta(hours=24)
#: Events stamped further in the future than this are refused (clocks disagree a little).
MAX_CLOCK_SKEW = dt.timedelta(minutes=10)
#: Refresh the access token when it has less than this left.
REFRESH_MARGIN = dt.timedelta(hours=1)


# -- webhook signature -------------------------------------------------------------


def signature(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    """The header value Zalo sends: `mac=` + sha256(app_id + body + timestamp + key)."""
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret_key.encode()).hexdigest()
    return "mac=" + digest


def check_signature(header: str, app_id: str, raw_body: bytes, timestamp: str, secret_key: str,
                    now: dt.datetime | None = None) -> str | None:
    """None when the event is genuine and fresh, else why it is refused (for the log)."""
    if not header:
        return "no signature"
    if not hmac.compare_digest(header.strip().encode(), signature(app_id, raw_body, timestamp, secret_key).encode()):
        return "bad signature"
    try:
        sent = dt.datetime.fromtimestamp(int(timestamp) / 1000, dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return "bad timestamp"
    age = (now or utcnow()) - sent
    if age > MAX_EVENT_AGE:
        return "old timestamp"
    if -age > MAX_CLOCK_SKEW:
        return "timestamp in the future"
    return None


# -- error codes -------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    outcome: Outcome
    why: str
    retry_after: float = 0.0


#: Zalo's error codes and what to do (reference §2.8; -204, -205, -209, -212, -219 from
#: developers.zalo.me "Mã lỗi" as a third-party copy quotes it: the OA or the app is
#: disabled or not set up, so nothing can be sent until an operator acts). -216/-220 are
#: handled in the client (refresh once, retry once); reaching here means the refresh did
#: not help.
ERRORS: dict[int, Action] = {
    -216: Action(Outcome.HALT, "access token invalid after a refresh: re-authorise the OA"),
    -220: Action(Outcome.HALT, "access token expired after a refresh: re-authorise the OA"),
    -32: Action(Outcome.RETRY_LATER, "rate limit (4,000 requests a minute)", 60.0),
    -204: Action(Outcome.HALT, "the Official Account is disabled"),
    -205: Action(Outcome.HALT, "the Official Account does not exist (check ZALO_OA_APP_ID and the OA link)"),
    -209: Action(Outcome.HALT, "the app is not activated for this API"),
    -212: Action(Outcome.HALT, "the app has not registered this API"),
    -219: Action(Outcome.HALT, "the app is removed or disabled"),
    429: Action(Outcome.RETRY_LATER, "HTTP 429", 30.0),
    -201: Action(Outcome.FAILED, "invalid parameter (a bug: not retried)"),
    -211: Action(Outcome.HALT, "the OA is out of quota"),
    -213: Action(Outcome.SKIPPED, "the resident does not follow the OA"),
    -217: Action(Outcome.BLOCKED, "the resident blocked the OA's invitations"),
    -218: Action(Outcome.SKIPPED, "the resident's receive quota is used up"),
    -221: Action(Outcome.HALT, "the OA is not verified"),
    -223: Action(Outcome.HALT, "the app lacks the permission"),
    -224: Action(Outcome.HALT, "the OA has no service package"),
    -227: Action(Outcome.BLOCKED, "the resident is banned or inactive for 45 days"),
    -230: Action(Outcome.SKIPPED, "no interaction within 7 days (window closed)"),
    -232: Action(Outcome.SKIPPED, "no interaction within 7 days (window closed)"),
    -233: Action(Outcome.FAILED, "message type not supported (a bug)"),
    -234: Action(Outcome.RETRY_LATER, "promotion messages are not sent at night"),
    -240: Action(Outcome.FAILED, "v2 message API retired (a bug)"),
    -244: Action(Outcome.SKIPPED, "the resident restricted this message type"),
    -320: Action(Outcome.HALT, "ZCA account not linked"),
    -321: Action(Outcome.HALT, "ZCA account out of money"),
}
WINDOW_CLOSED = (-230, -232)


def action_for(code: int) -> Action:
    """What to do about an error code; 5xx and network errors are transient."""
    if code in ERRORS:
        return ERRORS[code]
    if code >= 500 or code in (408, 599):
        return Action(Outcome.TRANSIENT, f"HTTP {code}")
    return Action(Outcome.FAILED, f"error {code}")


class ZaloOAError(Exception):
    """The API answered with a non-zero `error` (or an HTTP error)."""

    def __init__(self, code: int, message: str, retry_after: float = 0.0) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after


class TokenError(Exception):
    """No usable token: an operator must authorise the OA again (see the deployment guide)."""


# -- tokens ------------------------------------------------------------------------


def _seed_hash(settings: Settings) -> str:
    return hashlib.sha256(f"{settings.zalo_oa_access_token}\n{settings.zalo_oa_refresh_token}".encode()).hexdigest()


class TokenStore:
    """The OA's tokens: first from the settings, then rotated in the database."""

    def __init__(self, db: Database, settings: Settings, http: httpx.AsyncClient) -> None:
        self.db = db
        self.settings = settings
        self.http = http
        self._lock = asyncio.Lock()
        self._access: str | None = None
        self.expires_at: dt.datetime | None = None
        self.last_error: str = ""

    async def _row(self) -> ZaloOAToken:
        """The stored tokens; seeded (or re-seeded when an operator put new tokens in
        the settings) from ZALO_OA_ACCESS_TOKEN / ZALO_OA_REFRESH_TOKEN."""
        seed = _seed_hash(self.settings)
        t = ZaloOAToken.__table__
        async with self.db.engine.begin() as conn:
            row = (await conn.execute(select(t).where(t.c.id == 1))).mappings().first()
            if row is None or row["seed_hash"] != seed:
                values = {"id": 1, "access_token": self.settings.zalo_oa_access_token,
                          "refresh_token": self.settings.zalo_oa_refresh_token, "expires_at": None,
                          "seed_hash": seed, "version": (row["version"] + 1) if row else 0, "updated_at": utcnow()}
                dialect_insert = sqlite_insert if self.db.is_sqlite else pg_insert
                stmt = dialect_insert(t).values(**values)
                stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={k: v for k, v in values.items() if k != "id"})
                await conn.execute(stmt)
                row = (await conn.execute(select(t).where(t.c.id == 1))).mappings().one()
                if row["version"]:
                    logger.info("zalo oa: new tokens from the settings replace the stored ones")
        return ZaloOAToken(**dict(row))

    async def access_token(self) -> str:
        if self._access is None:
            row = await self._row()
            self._access, self.expires_at = row.access_token, row.expires_at
        if not self._access:
            return await self.refresh("")
        return self._access

    def expiring(self, now: dt.datetime | None = None) -> bool:
        """Unknown expiry (tokens from the settings) or less than an hour left."""
        return self.expires_at is None or self.expires_at - (now or utcnow()) < REFRESH_MARGIN

    async def refresh(self, stale: str | None = None) -> str:
        """Refresh unless the access token already differs from `stale` (someone else
        refreshed). `stale=None`: refresh whatever is stored (before expiry)."""
        async with self._lock:
            if stale is not None and self._access is not None and self._access != stale:
                return self._access
            try:
                return await self._refresh_locked(stale)
            except TokenError as exc:
                self.last_error = str(exc)
                logger.error("zalo oa: token refresh failed: %s; authorise the OA again and set "
                             "ZALO_OA_ACCESS_TOKEN / ZALO_OA_REFRESH_TOKEN", exc)
                raise

    async def _refresh_locked(self, stale: str | None) -> str:
        await self._row()  # make sure the row exists (and follows the settings)
        t = ZaloOAToken.__table__
        current = select(t).where(t.c.id == 1)
        if self.db.is_sqlite:
            # One SQLite connection serves the whole process: it is not held during the
            # call to Zalo. Another process racing us shows up as a version change.
            async with self.db.engine.connect() as conn:
                row = (await conn.execute(current)).mappings().one()
            if self._done(row, stale):
                return self._use(row)
            try:
                access, refresh, expires_at = await self._call_oauth(str(row["refresh_token"]))
            except TokenError:
                return await self._taken_over(row["version"])
            async with self.db.engine.begin() as conn:
                result = await conn.execute(
                    update(t).where(t.c.id == 1, t.c.version == row["version"])
                    .values(access_token=access, refresh_token=refresh, expires_at=expires_at,
                            version=row["version"] + 1, updated_at=utcnow()))
            if not result.rowcount:
                return await self._taken_over(row["version"])
        else:
            # PostgreSQL: the row stays locked until the new tokens are committed; another
            # process waits here, then reads the new tokens instead of refreshing again.
            async with self.db.engine.begin() as conn:
                row = (await conn.execute(current.with_for_update())).mappings().one()
                if self._done(row, stale):
                    return self._use(row)
                access, refresh, expires_at = await self._call_oauth(str(row["refresh_token"]))
                await conn.execute(
                    update(t).where(t.c.id == 1)
                    .values(access_token=access, refresh_token=refresh, expires_at=expires_at,
                            version=row["version"] + 1, updated_at=utcnow()))
        self._access, self.expires_at, self.last_error = access, expires_at, ""
        logger.info("zalo oa: access token refreshed; valid until %s UTC", expires_at)
        return access

    def _done(self, row: Any, stale: str | None) -> bool:
        """Someone already refreshed (the token moved on), or it is not due yet."""
        if not row["refresh_token"] and not row["access_token"]:
            raise TokenError("no token stored")
        return (stale is not None and row["access_token"] != stale) or (stale is None and not self._due(row))

    def _use(self, row: Any) -> str:
        self._access, self.expires_at, self.last_error = str(row["access_token"]), row["expires_at"], ""
        return self._access

    async def _taken_over(self, version: int, wait: float = 3.0) -> str:
        """Our refresh lost a race (the refresh token was used by another process): wait
        for that process to store the new tokens, then use them."""
        t = ZaloOAToken.__table__
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            async with self.db.engine.connect() as conn:
                row = (await conn.execute(select(t).where(t.c.id == 1))).mappings().one()
            if row["version"] != version:
                return self._use(row)
            if asyncio.get_running_loop().time() > deadline:
                raise TokenError("Zalo refused the stored refresh token")
            await asyncio.sleep(0.1)

    def _due(self, row: Any) -> bool:
        return not row["access_token"] or row["expires_at"] is None or row["expires_at"] - utcnow() < REFRESH_MARGIN

    async def _call_oauth(self, refresh_token: str) -> tuple[str, str, dt.datetime]:
        url = f"{self.settings.zalo_oauth_base_url.rstrip('/')}/v4/oa/access_token"
        try:
            r = await self.http.post(url, headers={"secret_key": self.settings.zalo_app_secret},
                                     data={"app_id": self.settings.zalo_oa_app_id, "grant_type": "refresh_token",
                                           "refresh_token": refresh_token})
            body = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenError(f"OAuth server unreachable or not JSON ({exc.__class__.__name__})") from exc
        # The failure shape is not documented: anything without both tokens is a failure.
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
            code = body.get("error") if isinstance(body, dict) else None
            name = body.get("error_name") or body.get("error_description") if isinstance(body, dict) else None
            raise TokenError(f"OAuth refused the refresh token (error {code}: {name})")
        try:
            seconds = int(str(body.get("expires_in", "90000")))  # a string in Zalo's answers
        except ValueError:
            seconds = 3600
        return str(body["access_token"]), str(body["refresh_token"]), utcnow() + dt.timedelta(seconds=seconds)


# -- the API client ----------------------------------------------------------------


class ZaloOAClient:
    """`await client.call("POST", "/v3.0/oa/message/cs", json=...)` → the `data` object."""

    def __init__(self, db: Database, settings: Settings, timeout: float = 20.0) -> None:
        self.base = settings.zalo_oa_api_base_url.rstrip("/")
        self.http = httpx.AsyncClient(timeout=timeout)
        self.tokens = TokenStore(db, settings, self.http)

    async def call(self, method: str, path: str, json: dict[str, Any] | None = None,
                   params: dict[str, str] | None = None) -> dict[str, Any]:
        token = await self.tokens.access_token()
        for attempt in range(2):
            try:
                r = await self.http.request(method, self.base + path, json=json, params=params,
                                            headers={"access_token": token})
            except httpx.ConnectTimeout as exc:  # never sent
                raise ZaloOAError(599, "network: ConnectTimeout") from exc
            except httpx.TimeoutException as exc:  # sent: it may have been delivered
                raise ZaloOAError(408, "client timeout") from exc
            except httpx.HTTPError as exc:
                raise ZaloOAError(599, f"network: {exc.__class__.__name__}") from exc
            if r.status_code == 429:
                raise ZaloOAError(429, "too many requests", _retry_after(r, 30.0))
            try:
                body = r.json()
            except ValueError as exc:
                raise ZaloOAError(r.status_code if r.status_code >= 400 else 502, "not JSON") from exc
            code = int(body.get("error", 0) or 0) if isinstance(body, dict) else r.status_code
            if code in (-216, -220) and attempt == 0:
                try:
                    token = await self.tokens.refresh(token)
                except TokenError as exc:
                    raise ZaloOAError(code, str(exc)) from exc
                continue
            if code == -32:
                raise ZaloOAError(-32, str(body.get("message", "rate limit")), _retry_after(r, 60.0))
            if code != 0:
                raise ZaloOAError(code, str(body.get("message", "")) if isinstance(body, dict) else "")
            if r.status_code >= 500:
                raise ZaloOAError(r.status_code, "server error")
            data = body.get("data") if isinstance(body, dict) else None
            return data if isinstance(data, dict) else {}
        raise ZaloOAError(-216, "token refused after a refresh")

    async def close(self) -> None:
        await self.http.aclose()


def _retry_after(r: httpx.Response, default: float) -> float:
    try:
        return max(1.0, float(r.headers.get("retry-after", default)))
    except ValueError:
        return default

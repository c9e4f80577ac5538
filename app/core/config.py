"""Settings, read in one place.

Every setting comes from the environment (or a `.env` file in the working directory).
Nested values use `__`, so `MODULES__WEBSHOP__API_KEY=secret` becomes
`settings.modules["webshop"]["api_key"]` and is read by `get_module_config`.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="ignore",
    )

    database_url: str | None = None
    data_dir: Path = Path("var")
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    log_file: Path = Path("logs/app.log")
    log_level: str = "INFO"
    timezone: str = "Europe/Copenhagen"
    # The hub's language for users who have not chosen one (docs/configuration.md): da or en.
    language: Literal["da", "en"] = "da"

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_s: float = 10.0
    mail_from: str = "BMC Hub <hub@localhost>"
    # Replies to notification e-mails (docs/conversation.md): e-mails carry
    # Reply-To: reply+<token>@MAIL_REPLY_DOMAIN (unset: no Reply-To), and `bmc-hub mail-in`
    # listens on MAIL_IN_HOST:MAIL_IN_PORT for the mail server to hand those replies over.
    mail_reply_domain: str | None = None
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int = Field(default=8025, ge=1, le=65535)
    mail_in_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)  # larger mail is refused (552)

    db_pool_min_size: int = 1
    db_pool_max_size: int = 10

    session_max_age_s: int = 14 * 24 * 3600
    login_max_failures: int = 5
    login_window_s: int = 15 * 60

    modules_dir: Path | None = None
    modules_strict: bool = False

    bmc_hub_admin_password: str | None = None

    # Operations (docs/operations.md): backups and the /metrics endpoint.
    backup_dir: Path = Path("backups")
    backup_schedule: str | None = None  # cron in TIMEZONE, e.g. "30 2 * * *"; unset = no scheduled backups
    backup_keep: int = Field(default=14, ge=1)  # scheduled backup files kept
    pg_dump: str | None = None  # for DATABASE_URL; default: pg_dump on PATH, then the embedded wheel's
    pg_restore: str | None = None
    metrics_token: str | None = None  # GET /metrics wants "Authorization: Bearer <it>"; unset = no /metrics

    modules: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Copenhagen)") from exc
        return value

    @field_validator("backup_schedule")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        from croniter import croniter

        value = (value or "").strip() or None
        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r} (e.g. \"30 2 * * *\" for 02:30 every day)")
        return value

    @field_validator("modules", mode="before")
    @classmethod
    def _lower_module_keys(cls, value: Any) -> Any:
        # Environment keys are case-insensitive; store them lower-case so lookups are too.
        # A stray `MODULES__X=value` (no key) is ignored rather than stopping the hub.
        if isinstance(value, dict):
            return {
                _module_key(k): {str(ik).lower(): iv for ik, iv in v.items()}
                for k, v in value.items() if isinstance(v, dict)
            }
        return value

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.lower().startswith("https://")

    def resolved_secret_key(self) -> str:
        """SECRET_KEY, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(key)
        tmp.chmod(0o600)
        try:
            # link() fails if another process won the race; then use its key.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
    _secret_key.cache_clear()
    _resolve_database_url.cache_clear()


def database_url() -> str:
    """The URL in use: DATABASE_URL, or the embedded cluster of the data directory (started if needed).

    Here, below `app.core.database`, so that the pool and the migration runner (which
    `database.execute_module_migration` calls) both reach it without importing each other.
    """
    settings = get_settings()
    return _resolve_database_url(settings.database_url, settings.data_dir)


@lru_cache(maxsize=4)
def _resolve_database_url(url: str | None, data_dir: Path) -> str:
    # Cached: attaching to the embedded cluster takes a file lock and a connection.
    if url:
        return url
    from app.core import embedded  # its import locates the server binaries; only needed without DATABASE_URL

    return embedded.ensure_running(data_dir)


@lru_cache(maxsize=1)
def _secret_key() -> str:
    return get_settings().resolved_secret_key()


def secret_key() -> str:
    return _secret_key()


def get_module_config(module: str, key: str, default: Any = None) -> Any:
    """Value of `MODULES__<MODULE>__<KEY>` (a string, as in the environment), or `default`.

    Names are case-insensitive; read from the environment or `.env`:
    `get_module_config("webshop", "API_KEY")` reads `MODULES__WEBSHOP__API_KEY`.
    """
    values = get_settings().modules.get(_module_key(module))
    if not values:
        return default
    return values.get(key.lower(), default)


def _module_key(name: str) -> str:
    # Environment names cannot hold "-": module "my-module" reads MODULES__MY_MODULE__...
    return str(name).lower().replace("-", "_")

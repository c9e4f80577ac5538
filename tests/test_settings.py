"""Settings: environment and `.env`, the generated SECRET_KEY, and get_module_config."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core import config
from app.core.config import Settings, get_module_config, get_settings, reset_settings

# Variables the test session itself sets; cleared where a test needs the defaults.
SESSION_VARS = ("DATABASE_URL", "DATA_DIR", "LOG_FILE", "SECRET_KEY", "BASE_URL")


@pytest.fixture
def fresh_settings(monkeypatch):
    """Settings re-read from the environment inside the test, restored afterwards."""
    reset_settings()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()


def test_defaults_match_the_documentation(monkeypatch, tmp_path):
    for name in SESSION_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.database_url is None
    assert s.data_dir == Path("var")
    assert s.log_file == Path("logs/app.log")
    assert s.timezone == "Europe/Copenhagen"
    assert s.base_url == "http://127.0.0.1:8000"
    assert s.smtp_host is None
    assert s.modules == {}


def test_dotenv_file_in_the_working_directory_is_read(fresh_settings, tmp_path):
    (tmp_path / ".env").write_text(
        "SMTP_HOST=mail.example.test\nSMTP_PORT=587\nSMTP_STARTTLS=true\nTIMEZONE=UTC\n"
        "MODULES__MY_MODULE__API_KEY=from-dotenv\n"
    )
    fresh_settings.chdir(tmp_path)
    reset_settings()
    s = get_settings()
    assert (s.smtp_host, s.smtp_port, s.smtp_starttls, s.timezone) == ("mail.example.test", 587, True, "UTC")
    assert get_module_config("my_module", "API_KEY") == "from-dotenv"


def test_environment_wins_over_dotenv(fresh_settings, tmp_path):
    (tmp_path / ".env").write_text("SMTP_HOST=from-dotenv\n")
    fresh_settings.chdir(tmp_path)
    fresh_settings.setenv("SMTP_HOST", "from-env")
    reset_settings()
    assert get_settings().smtp_host == "from-env"


def test_get_module_config_reads_the_nested_variable_exactly_as_the_notes_show(fresh_settings):
    fresh_settings.setenv("MODULES__MY_MODULE__API_KEY", "secret123")
    fresh_settings.setenv("MODULES__MY_MODULE__READ_ONLY", "true")
    fresh_settings.setenv("MODULES__WEBSHOP__API_KEY", "shop-key")
    reset_settings()
    assert get_module_config("my_module", "API_KEY") == "secret123"
    assert get_module_config("MY_MODULE", "api_key") == "secret123"
    assert get_module_config("my-module", "API_KEY") == "secret123"
    assert get_module_config("my_module", "READ_ONLY", default="false") == "true"
    assert get_module_config("webshop", "API_KEY") == "shop-key"


def test_get_module_config_falls_back_to_the_default(fresh_settings):
    fresh_settings.setenv("MODULES__WEBSHOP__API_KEY", "shop-key")
    reset_settings()
    assert get_module_config("webshop", "MISSING") is None
    assert get_module_config("webshop", "READ_ONLY", default="true") == "true"
    assert get_module_config("unknown_module", "API_KEY", default="x") == "x"


def test_a_stray_module_variable_without_key_does_not_stop_the_hub(fresh_settings):
    fresh_settings.setenv("MODULES__WEBSHOP", "oops")
    fresh_settings.setenv("MODULES__OTHER__KEY", "v")
    reset_settings()
    assert get_module_config("webshop", "API_KEY", default="d") == "d"
    assert get_module_config("other", "KEY") == "v"


def test_secret_key_is_generated_once_and_kept_in_the_data_dir(tmp_path):
    s = Settings(data_dir=tmp_path / "var", secret_key=None, _env_file=None)
    key = s.resolved_secret_key()
    assert len(key) >= 40
    path = tmp_path / "var" / config.SECRET_KEY_FILE
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings(data_dir=tmp_path / "var", secret_key=None, _env_file=None)
    assert again.resolved_secret_key() == key


def test_secret_key_from_the_environment_is_used_and_nothing_is_written(tmp_path):
    s = Settings(data_dir=tmp_path / "var", secret_key="given-key", _env_file=None)
    assert s.resolved_secret_key() == "given-key"
    assert not (tmp_path / "var" / config.SECRET_KEY_FILE).exists()


def test_an_unknown_time_zone_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        Settings(timezone="Mars/Olympus", _env_file=None)


def test_cookies_are_secure_exactly_when_base_url_is_https():
    assert Settings(base_url="https://hub.example.dk", _env_file=None).secure_cookies
    assert not Settings(base_url="http://127.0.0.1:8000", _env_file=None).secure_cookies

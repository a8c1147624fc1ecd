"""Every environment variable goes through Settings, and a bad value is one clear line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from portal.core.config import ConfigError, Settings, default_instance_path

ROOT = Path(__file__).resolve().parents[1]
FERNET_KEY = "Z2V0LWEtMzItYnl0ZS1rZXktZm9yLXRoZS10ZXN0cyE="


def settings(tmp_path, **env) -> Settings:
    return Settings.from_env(
        {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s", "CREDENTIALS_KEY": FERNET_KEY, **env}
    )


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("MCP_AUTH_FAILURE_LIMIT", "abc", "MCP_AUTH_FAILURE_LIMIT must be a whole number"),
        ("MCP_AUTH_FAILURE_LIMIT", "0", "1 or more"),
        ("MCP_AUTH_FAILURE_WINDOW", "soon", "MCP_AUTH_FAILURE_WINDOW must be a number of seconds"),
        ("MCP_AUTH_FAILURE_WINDOW", "nan", "MCP_AUTH_FAILURE_WINDOW must be a number of seconds"),
        ("MCP_PORT", "abc", "MCP_PORT must be a port number, from 1 to 65535"),
        ("MCP_PORT", "70000", "from 1 to 65535"),
        ("MCP_KEY_CACHE_SECONDS", "-1", "MCP_KEY_CACHE_SECONDS must be a number of seconds"),
        ("ALLOW_SIGNUP", "maybe", "ALLOW_SIGNUP must be 1 or 0"),
        ("MCP_STATELESS", "2", "MCP_STATELESS must be 1 or 0"),
        ("MCP_ACCESS_LOG", "quiet", "MCP_ACCESS_LOG must be 1 or 0"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of DEBUG, INFO"),
        ("PUBLIC_MCP_URL", "localhost:8080", "PUBLIC_MCP_URL must be an http:// or https:// address"),
        (
            "PUBLIC_PORTAL_URL",
            "https://host:port",
            "PUBLIC_PORTAL_URL must be an http:// or https:// address",
        ),
        ("FORWARDED_ALLOW_IPS", "my-proxy", "FORWARDED_ALLOW_IPS lists the addresses"),
        ("APP_ENV", "staging", "APP_ENV must be"),
        (
            "MCP_MAX_RESULT_TOKENS",
            "lots",
            "MCP_MAX_RESULT_TOKENS must be a whole number of tokens, 2000 or more",
        ),
        ("MCP_MAX_RESULT_TOKENS", "100", "2000 or more"),
    ],
)
def test_a_bad_value_is_one_clear_message_naming_the_variable(tmp_path, name, value, words):
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, **{name: value})
    message = str(caught.value)
    assert words in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []  # nothing was written before the settings were all checked


def test_values_are_parsed_into_typed_settings(tmp_path):
    parsed = settings(
        tmp_path,
        MCP_AUTH_FAILURE_LIMIT="7",
        MCP_AUTH_FAILURE_WINDOW="30.5",
        MCP_ACCESS_LOG="off",
        ALLOW_SIGNUP="Yes",
        LOG_LEVEL="warning",
        MCP_KEY_CACHE_SECONDS="60",
        FORWARDED_ALLOW_IPS="10.0.0.1",
        MCP_MAX_RESULT_TOKENS="8000",
    )
    assert parsed.mcp_max_result_tokens == 8000
    assert parsed.mcp_auth_failure_limit == 7 and parsed.mcp_auth_failure_window == 30.5
    assert parsed.mcp_access_log is False and parsed.allow_signup is True and parsed.log_level == "WARNING"
    assert parsed.key_cache_seconds == 10  # at most 10 s, as documented
    assert parsed.forwarded_allow_ips.trusts("10.0.0.1") and not parsed.forwarded_allow_ips.trusts("10.0.0.2")
    defaults = settings(tmp_path, MCP_AUTH_FAILURE_LIMIT="", MCP_PORT="")
    assert (defaults.mcp_auth_failure_limit, defaults.mcp_port, defaults.mcp_access_log) == (20, 8080, True)
    assert not defaults.forwarded_allow_ips
    assert defaults.mcp_max_result_tokens == 20_000


def test_no_module_reads_the_environment_but_the_settings():
    readers = []
    for path in [*ROOT.joinpath("portal").rglob("*.py"), *ROOT.joinpath("mcp_worker").rglob("*.py")]:
        if path.name == "config.py" and path.parent.name == "core":
            continue
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text()):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "mcp_worker"],
        [sys.executable, "-c", "import portal.wsgi"],
        [sys.executable, "-c", "from portal.cli import main; main()", "check-db"],
    ],
    ids=["worker", "web", "pm-portal"],
)
def test_each_process_stops_with_one_line_on_a_bad_value(tmp_path, command):
    env = {
        "PATH": "/usr/bin:/bin",
        "INSTANCE_PATH": str(tmp_path),
        "MCP_AUTH_FAILURE_LIMIT": "abc",
        "SECRET_KEY": "s",
        "CREDENTIALS_KEY": FERNET_KEY,
    }
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: MCP_AUTH_FAILURE_LIMIT must be a whole number, 1 or more; it is 'abc'."
    ]


def test_development_secrets_are_announced_once_by_the_process_that_makes_them(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path), "APP_ENV": "development"}
    three_apps = "from portal.app import create_app\nfor _ in range(3):\n    create_app()\n"
    first = subprocess.run(
        [sys.executable, "-c", three_apps], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("SECRET_KEY is not set") == 1
    assert first.stderr.count("CREDENTIALS_KEY is not set") == 1
    assert str(tmp_path / "secret_key") in first.stderr
    # The next processes (make run starts three) reuse them without repeating the warning.
    later = subprocess.run(
        [sys.executable, "-c", three_apps], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert later.returncode == 0 and "is not set" not in later.stderr
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_default_instance_folder_of_a_checkout_is_in_the_checkout():
    assert default_instance_path() == ROOT / "instance"

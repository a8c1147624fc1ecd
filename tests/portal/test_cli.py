import subprocess
import sys

from sqlalchemy import select

from portal.core.keys import hash_key
from portal.core.models import McpApiKey, User
from portal.extensions import db


def test_create_user_from_stdin(runner, app):
    result = runner.invoke(
        args=["create-user", "Ana@Example.com", "--password-stdin"], input="a long password\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created administrator ana@example.com" in result.output
    result = runner.invoke(
        args=["create-user", "bo@example.com", "--password-stdin"], input="another password\n"
    )
    assert "Created member bo@example.com" in result.output
    with app.app_context():
        emails = db.session.scalars(select(User.email).order_by(User.id)).all()
    assert emails == ["ana@example.com", "bo@example.com"]


def test_create_user_errors_are_one_line(runner, app):
    result = runner.invoke(
        args=["create-user", "not-an-email", "--password-stdin"], input="a long password\n"
    )
    assert result.exit_code == 1
    assert result.output.strip() == "Error: Enter a valid email address, such as ana@example.com."
    result = runner.invoke(args=["create-user", "ana@example.com", "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_create_and_revoke_key(runner, app, auth):
    auth.create_user()
    result = runner.invoke(
        args=["create-key", "ana@example.com", "--name", "laptop", "--client", "cursor", "--read-only"]
    )
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip().splitlines()[0]
    assert raw.startswith("mcp_") and len(raw) == 68
    with app.app_context():
        key = db.session.scalar(select(McpApiKey))
        assert key.key_hash == hash_key(raw) and key.read_only and key.client == "cursor"
        assert raw not in (key.key_prefix + key.key_hash)
    result = runner.invoke(args=["create-key", "ana@example.com", "--name", "laptop"])
    assert result.exit_code == 1 and "already have a key named 'laptop'" in result.output
    result = runner.invoke(args=["revoke-key", "ana@example.com", "laptop"])
    assert result.exit_code == 0 and "Revoked key 'laptop'" in result.output
    result = runner.invoke(args=["revoke-key", "ana@example.com", "laptop"])
    assert result.exit_code == 1 and "no active key named 'laptop'" in result.output
    result = runner.invoke(args=["create-key", "nobody@example.com", "--name", "x"])
    assert result.exit_code == 1 and "No account" in result.output


def test_unreachable_database_is_one_clear_line_with_the_password_masked(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgresql://pm:s3cretpw@127.0.0.1:9/pm",
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "x",
        "CREDENTIALS_KEY": "Z2V0LWEtMzItYnl0ZS1rZXktZm9yLXRoZS10ZXN0cyE=",
    }
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "postgresql+psycopg://pm:***@127.0.0.1:9/pm" in lines[0]
    assert "s3cretpw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_production_without_secret_key_stops_with_a_clear_message(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "production", "INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "check-db"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_web_process_stops_with_one_line_when_the_database_is_unreachable(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgresql://pm:s3cretpw@127.0.0.1:9/pm",
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "x",
        "CREDENTIALS_KEY": "Z2V0LWEtMzItYnl0ZS1rZXktZm9yLXRoZS10ZXN0cyE=",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import portal.wsgi"], env=env, capture_output=True, text=True, timeout=60
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1
    assert lines[0].startswith(
        "Error: Cannot reach the database at postgresql+psycopg://pm:***@127.0.0.1:9/pm"
    )
    assert "s3cretpw" not in result.stderr


def test_settings_never_show_their_secrets(tmp_path):
    from portal.core.config import Settings

    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://pm:dbpass123@db/pm",
            "SECRET_KEY": "flask-secret-xyz",
            "INSTANCE_PATH": str(tmp_path),
            "CREDENTIALS_KEY": "Z2V0LWEtMzItYnl0ZS1rZXktZm9yLXRoZS10ZXN0cyE=",
        }
    )
    shown = repr(settings)
    assert "dbpass123" not in shown and "flask-secret-xyz" not in shown and "Z2V0LWEt" not in shown
    assert "public_mcp_url" in shown

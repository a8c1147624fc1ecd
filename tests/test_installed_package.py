"""A non-editable install (`pip install .` into a fresh virtual environment) works on its own.

The slowest test of the suite (it installs every dependency into a new
environment, about a minute): the migrations must ship inside the package and
the default instance folder must not be inside site-packages.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {
    ".venv",
    ".git",
    "instance",
    "build",
    "dist",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    ".test-clients",
}


def test_pip_install_dot_gives_a_working_db_upgrade_and_an_instance_folder_outside_site_packages(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(
        ROOT, source, ignore=lambda _dir, names: [n for n in names if n in SKIP or n.endswith(".egg-info")]
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(source), "-c", str(ROOT / "constraints.txt")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "CREDENTIALS_KEY", "APP_ENV", "PYTHONPATH"}
    }
    upgrade = subprocess.run(
        [str(venv / "bin" / "pm-portal"), "db", "upgrade"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Running upgrade" in upgrade.stderr and "Traceback" not in upgrade.stderr

    site_packages = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    installed = site_packages / "portal"
    assert (installed / "migrations" / "versions").is_dir()
    assert not (installed / "app.py").resolve().is_relative_to(ROOT), "the package came from the checkout"
    # The instance folder: <environment>/var/pm-mcp-server-instance, not in site-packages nor the cwd.
    instance = venv / "var" / "pm-mcp-server-instance"
    database = instance / "pm.sqlite3"
    assert database.is_file() and (instance / "secret_key").is_file()
    assert not (site_packages / "instance").exists() and not any(site_packages.glob("**/pm.sqlite3"))
    assert list(elsewhere.iterdir()) == []
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        head = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"users", "user_mcp_api_keys", "audit_events", "alembic_version"} <= tables
    assert len(head) == 1

"""The portal as the Procfile's `web:` line starts it (hypercorn and its flags), for tests over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.worker.harness import stop_process, wait_until_healthy

ROOT = Path(__file__).resolve().parents[1]


def procfile_command(name: str) -> str:
    """The command of one Procfile process type, as a platform would run it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"the Procfile has no {name} process")


@dataclass
class PortalProcess:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)


def start_portal(env_overrides: dict[str, str], port: int, log_path: Path) -> PortalProcess:
    """Run the Procfile's web process on 127.0.0.1:`port`, and wait until it answers /healthz."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        **env_overrides,
        "WEB_HOST": "127.0.0.1",
        "PORT": str(port),
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {procfile_command('web')}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    portal = PortalProcess(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    wait_until_healthy(process, portal.url, log_path, "the portal")
    return portal

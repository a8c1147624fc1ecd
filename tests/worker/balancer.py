"""HAProxy (Debian's package) in front of worker processes: round-robin, no stickiness, on loopback."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .harness import free_port, stop_process, wait_until_healthy

# Requests a stopping worker refused (503 before doing anything, or a connection it closed unused) are
# sent again to another worker (a request is replayable only once wholly buffered: http-buffer-request);
# SSE streams pass through unbuffered.
CONFIG = """\
global
    maxconn 4000

defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 5s
    timeout check 5s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response 503
    option http-buffer-request

frontend mcp
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend workers

backend workers
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
{servers}
"""


def haproxy_path() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if Path(p).exists()), None
    )


@dataclass
class Balancer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        stop_process(self.process)


def start_balancer(worker_urls: list[str], workdir: Path, timeout: float = 20) -> Balancer:
    """Start HAProxy in the foreground in front of `worker_urls`; returns once it answers /healthz."""
    binary = haproxy_path()
    if binary is None:
        raise RuntimeError("haproxy is not installed (apt-get install haproxy)")
    port = free_port()
    servers = "\n".join(
        f"    server w{n} {url.removeprefix('http://')} check inter 1s fall 3 rise 2"
        for n, url in enumerate(worker_urls)
    )
    config = workdir / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, servers=servers))
    log_path = workdir / "haproxy.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, url, log_path, "haproxy", timeout)
    return Balancer(url=url, process=process, log_path=log_path)

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.web_process import PortalProcess, start_portal
from tests.worker.conftest import (  # noqa: F401 - fixtures
    anyio_backend,
    jira_fake,
    make_key,
    make_user,
    people,
    worker_env,
)
from tests.worker.harness import WorkerProcess, free_port, start_worker

from .stack import DocumentServer, make_certificates


@dataclass
class Stack:
    portal: PortalProcess
    worker: WorkerProcess
    documents: DocumentServer


@pytest.fixture(scope="session")
def stack(schema, worker_env, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """The portal and the worker as separate processes that know each other, and a metadata document server."""
    directory = tmp_path_factory.mktemp("oauth-stack")
    ca, cert, key = make_certificates(directory)
    documents = DocumentServer(cert, key)
    documents.start()
    portal_port = free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    worker = start_worker({**worker_env, "PUBLIC_PORTAL_URL": portal_url}, directory / "worker.log")
    portal = start_portal(
        {
            **worker_env,
            "PUBLIC_PORTAL_URL": portal_url,
            "PUBLIC_MCP_URL": worker.url,
            "OUTBOUND_CA_BUNDLE": str(ca),
            # Only the document server: every other local address stays refused.
            "ALLOWED_PROVIDER_HOSTS": f"127.0.0.1:{documents.port}",
        },
        portal_port,
        directory / "portal.log",
    )
    yield Stack(portal=portal, worker=worker, documents=documents)
    portal.stop()
    worker.stop()
    documents.stop()

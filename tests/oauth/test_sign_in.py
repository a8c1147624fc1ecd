"""An MCP client that knows nothing but the worker's URL signs in through the portal and works.

Both processes are real (the portal under hypercorn, the worker), the client is the SDK's own OAuth
client (`mcp.client.auth`), and the test plays the person at the browser: the sign-in form and the
consent form, each with its CSRF token."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import anyio
import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from mcp.shared.exceptions import MCPError
from sqlalchemy import select, update

from portal.core import accounts
from portal.core.models import AuditEvent, OAuthClient, OAuthGrant, User, utcnow
from portal.core.models import OAuthToken as TokenRow
from portal.extensions import db
from tests.conftest import PASSWORD

from .flow import REDIRECT_URI, form_token
from .stack import Browser, code_result

pytestmark = pytest.mark.anyio


@dataclass
class MemoryStorage:
    tokens: OAuthToken | None = None
    client_info: OAuthClientInformationFull | None = None
    history: list[OAuthToken] = field(default_factory=list)

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens
        self.history.append(tokens)

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


@dataclass
class SignedIn:
    client: Client
    provider: OAuthClientProvider
    storage: MemoryStorage
    browser: Browser


@contextlib.asynccontextmanager
async def signed_in_client(
    stack, browser: Browser, *, metadata_url: str | None = None, **choices
) -> AsyncIterator[SignedIn]:
    """The SDK's OAuth client on the worker's /mcp, the browser answering the portal's pages."""
    storage = MemoryStorage()
    answer: dict[str, str] = {}

    async def redirect_handler(url: str) -> None:
        answer["location"] = await anyio.to_thread.run_sync(lambda: browser.authorize(url, **choices))

    async def callback_handler():
        return code_result(answer["location"])

    provider = OAuthClientProvider(
        server_url=f"{stack.worker.url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="SDK test client",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=metadata_url,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(30, read=60)) as http:
        async with Client(
            streamable_http_client(f"{stack.worker.url}/mcp", http_client=http), mode="legacy"
        ) as client:
            yield SignedIn(client=client, provider=provider, storage=storage, browser=browser)


@pytest.fixture
def ana(make_user) -> int:
    return make_user("ana@example.com", "Ana Silva")


@pytest.fixture
def browser() -> Browser:
    return Browser("ana@example.com", PASSWORD)


def metadata_document(stack, path: str = "/client.json", **overrides) -> str:
    url = stack.documents.url(path)
    stack.documents.documents[path] = {
        "client_id": url,
        "client_name": "Document Client",
        "client_uri": stack.documents.url("/"),
        "logo_uri": stack.documents.url("/logo.png"),
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **overrides,
    }
    return url


async def whoami(client: Client) -> dict:
    result = await client.call_tool("whoami", {})
    assert not result.is_error, result.content
    return result.structured_content


def worker_get(stack, token: str, path: str = "/mcp") -> requests.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    return requests.post(
        f"{stack.worker.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
        timeout=10,
    )


async def test_unauthenticated_requests_point_at_the_metadata(stack):
    response = requests.post(
        f"{stack.worker.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=5
    )
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    expected = f"{stack.worker.url}/.well-known/oauth-protected-resource/mcp"
    assert challenge == f'Bearer resource_metadata="{expected}"'
    assert "No MCP API key was sent" in response.json()["error"]["message"]  # the JSON-RPC body stays
    metadata = requests.get(expected, timeout=5).json()
    assert metadata["resource"] == f"{stack.worker.url}/mcp"
    assert metadata["authorization_servers"] == [stack.portal.url]
    root = requests.get(f"{stack.worker.url}/.well-known/oauth-protected-resource", timeout=5).json()
    assert root["resource"] == stack.worker.url
    sse = requests.get(f"{stack.worker.url}/sse", timeout=5)
    assert (
        sse.status_code == 401
        and "/.well-known/oauth-protected-resource/sse" in sse.headers["WWW-Authenticate"]
    )
    server = requests.get(f"{stack.portal.url}/.well-known/oauth-authorization-server", timeout=5).json()
    assert (
        server["issuer"] == stack.portal.url and server["token_endpoint"] == f"{stack.portal.url}/oauth/token"
    )


async def test_the_sdk_client_signs_in_with_dynamic_registration(stack, app, ana, browser):
    async with signed_in_client(stack, browser, access="read", duration="1") as session:
        names = {tool.name for tool in (await session.client.list_tools()).tools}
        assert "list_my_tasks" in names and "create_task" not in names  # read-only was chosen
        me = await whoami(session.client)
        assert me["signed_in_with"] == "oauth" and me["key_name"] == "SDK test client"
        assert me["read_only"] is True and me["email"] == "ana@example.com"
        projects = await session.client.call_tool("list_projects", {})
        assert not projects.is_error
    assert "This app registered itself" in browser.consent_pages[0]
    token = session.storage.tokens
    assert token.access_token.startswith("pmat_") and token.refresh_token.startswith("pmrt_")
    with app.app_context():
        client_row = db.session.scalar(select(OAuthClient))
        assert client_row.kind == "registered" and client_row.client_name == "SDK test client"
        grant = db.session.scalar(select(OAuthGrant))
        assert grant.read_only and grant.resource == f"{stack.worker.url}/mcp"
        assert timedelta(hours=23) < grant.expires_at - grant.created_at <= timedelta(days=1)
    # Audit rows name the grant as they name a key (written in batches every half second; the shared
    # worker may still be writing an earlier test's rows, so only Ana's are read: user ids are never reused).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.app_context():
            rows = db.session.scalars(
                select(AuditEvent).where(AuditEvent.kind == "tool_call", AuditEvent.user_id == ana)
            ).all()
        if {row.tool for row in rows} >= {"whoami", "list_projects"}:
            break
        time.sleep(0.2)
    assert rows and all(row.grant_id == grant.id and row.key_id is None for row in rows)
    with app.app_context():
        assert db.session.get(OAuthGrant, grant.id).last_used_at is not None


async def test_the_sdk_client_signs_in_with_a_metadata_document(stack, app, ana, browser):
    url = metadata_document(stack)
    async with signed_in_client(stack, browser, metadata_url=url) as session:
        me = await whoami(session.client)
        assert me["key_name"] == "Document Client" and me["read_only"] is False
        assert session.storage.client_info.client_id == url
    page = browser.consent_pages[0]
    assert "Document Client" in page and "Client ID metadata document" in page
    assert f'src="{stack.documents.url("/logo.png")}"' in page  # a logo from the document's own host
    assert "This app registered itself" not in page
    with app.app_context():
        row = db.session.scalar(select(OAuthClient))
        assert row.kind == "metadata_document" and row.client_id == url
        assert row.metadata_expires_at > utcnow()
    assert stack.documents.hits["/client.json"] == 1  # cached: the token request did not fetch it again


async def test_a_logo_from_another_host_is_not_shown(stack, ana, browser):
    url = metadata_document(stack, "/other-logo.json", logo_uri="https://cdn.example/logo.png")
    async with signed_in_client(stack, browser, metadata_url=url) as session:
        await whoami(session.client)
    assert "cdn.example" not in browser.consent_pages[0] and "client-logo" not in browser.consent_pages[0]


async def test_refresh_rotation_reuse_detection_and_expiry(stack, app, ana, browser):
    async with signed_in_client(stack, browser) as session:
        await whoami(session.client)
        first = session.storage.tokens
        # The access token expires (server side): the worker refuses it, saying so.
        with app.app_context():
            db.session.execute(update(TokenRow).values(access_expires_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
        deadline = time.monotonic() + 10
        while (refused := worker_get(stack, first.access_token)).status_code != 401:
            assert time.monotonic() < deadline, "an expired token was still accepted"
            time.sleep(0.2)
        assert refused.json()["error"]["data"]["reason"] == "expired"
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        # The client's own clock says so too: it refreshes, and the refresh token is rotated.
        session.provider.context.token_expiry_time = time.time() - 1
        await whoami(session.client)
        second = session.storage.tokens
        assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
        assert worker_get(stack, second.access_token).status_code != 401  # accepted (a bare ping: 400)
    # The first refresh token, used once already, is presented again: the whole grant is revoked.
    replay = requests.post(
        f"{stack.portal.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first.refresh_token,
            "client_id": session.storage.client_info.client_id,
        },
        timeout=10,
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    with app.app_context():
        assert db.session.scalar(select(OAuthGrant)).revoked_reason == "refresh_token_reused"
    deadline = time.monotonic() + 10
    while (after := worker_get(stack, second.access_token)).status_code != 401:
        assert time.monotonic() < deadline, "the grant's newest token was still accepted"
        time.sleep(0.2)
    assert after.json()["error"]["data"]["reason"] == "revoked"


async def _served_until_refused(client: Client, seconds: float) -> None:
    """Call whoami until the worker refuses it (an error result or an MCP error), within `seconds`.

    A client whose connection ends meanwhile raises out of here, which the caller expects; a
    client still served after `seconds` fails the test.
    """
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            with anyio.fail_after(10):
                result = await client.call_tool("whoami", {})
        except MCPError:
            return
        if result.is_error:
            return
        await anyio.sleep(0.2)
    raise AssertionError(f"still served {seconds} s after the grant stopped being valid")


async def test_revoking_from_the_keys_page_stops_the_client(stack, app, ana, browser):
    revoked_at = refused_at = None
    try:
        async with signed_in_client(stack, browser) as session:
            await whoami(session.client)
            token = session.storage.tokens.access_token
            page = browser.session.get(f"{stack.portal.url}/keys/", timeout=10).text
            assert "SDK test client" in page
            action = re.search(r'action="(/keys/grants/\d+/revoke)"', page).group(1)
            revoked = browser.post_form(
                f"{stack.portal.url}/keys/", f"{stack.portal.url}{action}", {"confirmed": "yes"}
            )
            assert "SDK test client is signed out" in revoked.text
            revoked_at = time.monotonic()
            await _served_until_refused(session.client, 8)
            refused_at = time.monotonic()
    except* (httpx2.HTTPError, MCPError):
        # The client gives up once it can't sign in again: its connection ends with a transport error.
        # Only those: an assertion failing above is not swallowed here.
        refused_at = refused_at or time.monotonic()
    assert revoked_at is not None and refused_at is not None
    # Refused on its next request after the worker's cache window (1 s here).
    assert refused_at - revoked_at < 6
    refused = worker_get(stack, token)
    assert refused.status_code == 401 and refused.json()["error"]["data"]["reason"] == "revoked"


async def test_disabling_the_user_stops_the_client(stack, app, ana, browser):
    async with signed_in_client(stack, browser) as session:
        await whoami(session.client)
        token = session.storage.tokens.access_token
    with app.app_context():
        accounts.set_active(db.session, db.session.get(User, ana), False)
        db.session.commit()
    deadline = time.monotonic() + 10
    while (refused := worker_get(stack, token)).status_code != 401:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert refused.json()["error"]["data"]["reason"] == "user_disabled"


def authorize_page(stack, browser: Browser, client_id: str) -> requests.Response:
    """The portal's answer to an authorization request, signing in first when asked."""
    page = browser.session.get(
        f"{stack.portal.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "state": "s",
        },
        timeout=10,
    )
    if 'name="password"' in page.text:
        page = browser.session.post(
            page.url,
            data={"csrf_token": form_token(page.text), "email": browser.email, "password": browser.password},
            timeout=10,
        )
    return page


async def test_a_metadata_document_on_a_private_address_is_refused(stack, ana, browser):
    # localhost is 127.0.0.1, but only 127.0.0.1:<document server port> is allowed by name.
    url = metadata_document(stack, "/private.json")
    private = url.replace("127.0.0.1", "localhost")
    stack.documents.documents["/private.json"]["client_id"] = private
    hits_before = stack.documents.hits.get("/private.json", 0)
    page = authorize_page(stack, browser, private)
    assert page.status_code == 400
    assert "loopback address" in page.text and "could not be fetched" in page.text
    assert stack.documents.hits.get("/private.json", 0) == hits_before  # never contacted


@pytest.mark.parametrize(
    ("path", "overrides", "expected"),
    [
        ("/big.json", {"client_name": "x" * 12_000}, "larger than 10 KiB"),
        (
            "/mismatch.json",
            {"client_id": "https://elsewhere.example/client.json"},
            "names a different client_id",
        ),
        ("/nameless.json", {"client_name": ""}, "has no client_name"),
        ("/plain-http.json", {"redirect_uris": ["http://client.example/cb"]}, "only loopback addresses"),
        ("/secret.json", {"token_endpoint_auth_method": "client_secret_basic"}, "only public clients"),
    ],
)
async def test_unacceptable_metadata_documents_are_refused(stack, ana, browser, path, overrides, expected):
    url = metadata_document(stack, path, **overrides)
    page = authorize_page(stack, browser, url)
    assert page.status_code == 400 and expected in page.text, page.text[-1500:]


async def test_a_token_is_refused_by_a_worker_it_was_not_issued_for(
    stack, app, ana, browser, worker_env, tmp_path
):
    from tests.worker.harness import start_worker

    async with signed_in_client(stack, browser) as session:
        await whoami(session.client)
        token = session.storage.tokens.access_token
    other = start_worker({**worker_env, "PUBLIC_PORTAL_URL": stack.portal.url}, tmp_path / "other.log")
    try:
        refused = worker_get(type("S", (), {"worker": other})(), token)
        assert refused.status_code == 401 and refused.json()["error"]["data"]["reason"] == "unknown"
        assert "another server" in refused.json()["error"]["message"]
    finally:
        other.stop()


async def test_keys_keep_working_next_to_oauth(stack, ana, make_key):
    key = make_key(ana)
    for headers in ({"X-MCP-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        response = requests.post(
            f"{stack.worker.url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={**headers, "Accept": "application/json, text/event-stream"},
            timeout=10,
        )
        assert response.status_code != 401

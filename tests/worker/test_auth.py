"""The real worker process, over real HTTP, with the official MCP client."""

from __future__ import annotations

import time
from datetime import timedelta

import anyio
import pytest
import requests
from mcp.shared.exceptions import MCPError
from sqlalchemy import select, text, update

from portal.core import accounts
from portal.core.keys import hash_key
from portal.core.models import AuditEvent, McpApiKey, User, utcnow
from portal.extensions import db

from .harness import INITIALIZE_REQUEST, key_headers, mcp_client, start_worker

pytestmark = pytest.mark.anyio

ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post_mcp(worker, headers=None, path="/mcp", body=INITIALIZE_REQUEST, **kwargs):
    return requests.post(
        f"{worker.url}{path}", json=body, headers={**ACCEPT, **(headers or {})}, timeout=10, **kwargs
    )


@pytest.mark.parametrize("transport", ["sse", "http"])
@pytest.mark.parametrize("form", ["header", "bearer"])
async def test_whoami_over_each_transport_and_header_form(worker, make_user, make_key, transport, form):
    user_id = make_user()
    key = make_key(user_id, name="laptop", client="cursor", read_only=True, expires_days=30)
    async with mcp_client(worker.url, key, transport=transport, form=form) as client:
        result = await client.call_tool("whoami", {})
    assert not result.is_error
    data = result.structured_content
    assert data["email"] == "ana@example.com" and data["user_id"] == user_id
    assert data["key_name"] == "laptop" and data["client"] == "cursor" and data["read_only"] is True
    assert data["key_expires_at"] is not None
    assert data["connection_count"] == 1  # the built-in tracker
    assert "Ana Silva" in result.content[0].text and "read-only" in result.content[0].text


async def test_sessionless_2026_protocol(worker, make_user, make_key):
    key = make_key(make_user())
    async with mcp_client(worker.url, key, transport="http", mode="auto") as client:
        assert client.session is not None
        result = await client.call_tool("whoami", {})
    assert result.structured_content["email"] == "ana@example.com"


async def test_stateless_worker(worker_env, tmp_path, make_user, make_key):
    key = make_key(make_user())
    stateless = start_worker({**worker_env, "MCP_STATELESS": "1"}, tmp_path / "stateless.log")
    try:
        async with mcp_client(stateless.url, key, transport="http") as client:
            first = await client.call_tool("whoami", {})
            second = await client.call_tool("whoami", {})
        assert first.structured_content == second.structured_content
        response = post_mcp(stateless, key_headers(key))
        assert response.status_code == 200 and "mcp-session-id" not in response.headers
    finally:
        stateless.stop()


def _refusal(response) -> tuple[int, str, str]:
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] is None
    return response.status_code, body["error"]["data"]["reason"], body["error"]["message"]


def test_each_failure_mode_has_its_status_and_message(worker, app, make_user, make_key):
    user_id = make_user()
    revoked = make_key(user_id, name="revoked")
    expired = make_key(user_id, name="expired", expires_days=1)
    disabled_owner = make_key(make_user("bo@example.com", "Bo"), name="bo's")
    with app.app_context():
        db.session.execute(
            update(McpApiKey).where(McpApiKey.key_hash == hash_key(revoked)).values(revoked_at=utcnow())
        )
        db.session.execute(
            update(McpApiKey)
            .where(McpApiKey.key_hash == hash_key(expired))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.execute(update(User).where(User.email == "bo@example.com").values(is_active=False))
        db.session.commit()

    cases = [
        ({}, "missing", "No MCP API key was sent"),
        ({"X-MCP-API-Key": "mcp_123"}, "malformed", "malformed"),
        ({"X-MCP-API-Key": "mcp_" + "ab" * 32}, "unknown", "not known here"),
        (key_headers(revoked), "revoked", "has been revoked"),
        (key_headers(expired), "expired", "expired on"),
        (key_headers(disabled_owner), "user_disabled", "account this MCP API key belongs to is disabled"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing", "No MCP API key was sent"),
    ]
    for headers, reason, words in cases:
        for path in ("/mcp", "/messages/?session_id=00000000000000000000000000000000"):
            status, got_reason, message = _refusal(post_mcp(worker, headers, path=path))
            assert (status, got_reason) == (401, reason), (headers, path)
            assert words in message
        sse = requests.get(f"{worker.url}/sse", headers=headers, timeout=10, stream=True)
        assert _refusal(sse)[:2] == (401, reason)


def test_key_in_the_query_string_is_refused_and_not_logged(worker, make_user, make_key):
    key = make_key(make_user())
    logged_before = worker.log().count('"POST /mcp ')
    response = post_mcp(worker, {}, path=f"/mcp?api_key={key}")
    status, reason, message = _refusal(response)
    assert (status, reason) == (401, "key_in_query")
    assert "X-MCP-API-Key header" in message
    # Even with a valid header, a key in the URL is refused.
    response = post_mcp(worker, key_headers(key), path=f"/mcp?x={key}")
    assert _refusal(response)[:2] == (401, "key_in_query")
    deadline = time.monotonic() + 10  # the access log's lines for both requests, once written
    while worker.log().count('"POST /mcp ') < logged_before + 2:
        assert time.monotonic() < deadline, "the worker did not log the requests"
        time.sleep(0.05)
    assert key not in worker.log()
    assert key[4:20] not in worker.log()


WRONG_KEY = {"X-MCP-API-Key": "mcp_" + "0" * 64}
# What clients probe on every start. The worker serves the RFC 9728 metadata; the rest are the portal's
# (its authorization server metadata) or nobody's, and answer 404 here.
METADATA_PATHS = ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp")
OTHER_PROBES = (
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-authorization-server/mcp",
    "/.well-known/openid-configuration",
    "/.well-known/openid-configuration/mcp",
    "/mcp/.well-known/openid-configuration",
    "/register",
    "/authorize",
)
DISCOVERY_PATHS = METADATA_PATHS + OTHER_PROBES


@pytest.fixture
def default_worker(worker_env, tmp_path):
    """A worker with the shipped authentication throttle (20 wrong keys per address per minute)."""
    process = start_worker(
        {**worker_env, "MCP_AUTH_FAILURE_LIMIT": "", "MCP_AUTH_FAILURE_WINDOW": ""}, tmp_path / "w.log"
    )
    yield process
    process.stop()


def test_unknown_paths_answer_404_saying_how_to_connect_and_discovery_never_401(worker, make_user, make_key):
    key = make_key(make_user())
    for headers in ({}, key_headers(key), WRONG_KEY):
        for path in OTHER_PROBES + ("/nothing-here", "/mcp/extra"):
            response = requests.get(f"{worker.url}{path}", headers=headers, timeout=10)
            assert response.status_code == 404, (path, headers)
            body = response.json()
            assert body["error"] == "not_found"
            assert "X-MCP-API-Key" in body["message"] and "signing in with OAuth" in body["message"]
            assert body["get_a_key"] == "http://127.0.0.1:5000/keys"
            assert body["authorization_server"] == "http://127.0.0.1:5000"
            assert "WWW-Authenticate" not in response.headers
        for path in METADATA_PATHS:
            response = requests.get(f"{worker.url}{path}", headers=headers, timeout=10)
            assert response.status_code == 200, (path, headers)
            assert response.json()["authorization_servers"] == ["http://127.0.0.1:5000"]


async def test_keyless_probes_then_a_valid_key_connects(default_worker, make_user, make_key):
    key = make_key(make_user())
    for i in range(30):
        path = DISCOVERY_PATHS[i % len(DISCOVERY_PATHS)]
        expected = 200 if path in METADATA_PATHS else 404
        assert requests.get(f"{default_worker.url}{path}", timeout=10).status_code == expected
    # Requests with no key at all get their 401 and are not counted either.
    for _ in range(25):
        assert _refusal(post_mcp(default_worker, {}))[:2] == (401, "missing")
    assert _refusal(post_mcp(default_worker, WRONG_KEY))[:2] == (401, "unknown")
    async with mcp_client(default_worker.url, key) as client:
        result = await client.call_tool("whoami", {})
    assert not result.is_error and result.structured_content["email"] == "ana@example.com"


async def test_wrong_keys_are_throttled_and_a_valid_key_never_is(default_worker, make_user, make_key):
    key = make_key(make_user())
    statuses = [post_mcp(default_worker, WRONG_KEY).status_code for _ in range(25)]
    assert statuses == [401] * 20 + [429] * 5
    for transport in ("http", "sse"):
        async with mcp_client(default_worker.url, key, transport=transport) as client:
            result = await client.call_tool("whoami", {})
        assert not result.is_error and result.structured_content["email"] == "ana@example.com"
    assert post_mcp(default_worker, key_headers(key)).status_code == 200
    refused = post_mcp(default_worker, WRONG_KEY)
    status, reason, message = _refusal(refused)
    assert (status, reason) == (429, "rate_limited")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "wrong MCP API key" in message and "not known here" in message
    malformed = post_mcp(default_worker, {"X-MCP-API-Key": "mcp_123"})
    assert _refusal(malformed)[:2] == (429, "rate_limited")


def _revoke(app, key: str) -> None:
    with app.app_context():
        db.session.execute(
            update(McpApiKey).where(McpApiKey.key_hash == hash_key(key)).values(revoked_at=utcnow())
        )
        db.session.commit()


def _disable(app, email: str) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        accounts.set_active(db.session, user, False)
        db.session.commit()


async def _refused_within(client, seconds: float) -> tuple[float, MCPError]:
    """Call whoami until the worker refuses it; return how long that took and the refusal."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            with anyio.fail_after(5):
                result = await client.call_tool("whoami", {})
        except MCPError as refusal:
            return time.monotonic() - started, refusal
        assert not result.is_error, result.content
        await anyio.sleep(0.2)
    raise AssertionError(f"still served {seconds} s after the key stopped being valid")


@pytest.mark.parametrize("transport", ["sse", "http"])
@pytest.mark.parametrize("how", ["revoke", "disable"])
async def test_revocation_and_disabling_take_effect_mid_session(
    worker, app, make_user, make_key, transport, how
):
    key = make_key(make_user())
    async with mcp_client(worker.url, key, transport=transport) as client:
        assert not (await client.call_tool("whoami", {})).is_error
        if how == "revoke":
            _revoke(app, key)
        else:
            _disable(app, "ana@example.com")
        elapsed, refusal = await _refused_within(client, 6)
    assert elapsed < 4  # cache of 1 s in the test worker, rechecked every 0.5 s
    if transport == "http":
        # Each POST is authenticated: the next call gets the worker's 401, with its reason.
        assert refusal.code == -32001
        assert refusal.data["reason"] == ("revoked" if how == "revoke" else "user_disabled")
    else:
        # The worker closed the key's SSE stream, which ends the session.
        assert refusal.message == "Connection closed"


async def test_open_sse_stream_of_a_revoked_key_is_closed(worker, app, make_user, make_key):
    key = make_key(make_user())
    started = time.monotonic()
    with requests.get(f"{worker.url}/sse", headers=key_headers(key), stream=True, timeout=10) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines).startswith(b"event: endpoint")
        _revoke(app, key)
        # Reading ends when the worker closes the stream (within the cache lifetime and a recheck).
        for _ in lines:
            if time.monotonic() - started > 8:
                raise AssertionError("the stream stayed open")
    assert time.monotonic() - started < 6


def test_a_session_is_bound_to_the_key_that_opened_it(worker, make_user, make_key):
    ana_key = make_key(make_user())
    bo_key = make_key(make_user("bo@example.com", "Bo"), name="bo")
    opened = post_mcp(worker, key_headers(ana_key))
    session_id = opened.headers["mcp-session-id"]
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    headers = {"mcp-session-id": session_id, "mcp-protocol-version": "2025-11-25"}
    stolen = post_mcp(worker, {**key_headers(bo_key), **headers}, body=ping)
    assert stolen.status_code == 404
    own = post_mcp(worker, {**key_headers(ana_key), **headers}, body=ping)
    assert own.status_code == 200

    # The SSE transport: another user's key can't post into ana's session.
    with requests.get(f"{worker.url}/sse", headers=key_headers(ana_key), stream=True, timeout=10) as stream:
        lines = stream.iter_lines()  # kept alive: dropping the iterator would close the stream
        endpoint = next(line for line in lines if line.startswith(b"data:")).decode()[5:].strip()
        stolen = post_mcp(worker, key_headers(bo_key), path=endpoint, body=ping)
        assert stolen.status_code == 404
        assert post_mcp(worker, key_headers(ana_key), path=endpoint, body=ping).status_code == 202


def test_dns_rebinding_protection(worker, make_user, make_key):
    key = make_key(make_user())
    bad_origin = post_mcp(worker, {**key_headers(key), "Origin": "http://evil.example"})
    assert bad_origin.status_code == 403
    bad_host = post_mcp(worker, {**key_headers(key), "Host": "evil.example"})
    assert bad_host.status_code == 421
    good = post_mcp(worker, {**key_headers(key), "Origin": "http://127.0.0.1:1234"})
    assert good.status_code == 200
    sse = requests.get(
        f"{worker.url}/sse", headers={**key_headers(key), "Origin": "http://evil.example"}, timeout=10
    )
    assert sse.status_code == 403


async def test_last_used_is_recorded_without_a_write_per_call(worker, app, make_user, make_key):
    key = make_key(make_user())
    async with mcp_client(worker.url, key) as client:
        for _ in range(5):
            await client.call_tool("whoami", {})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with app.app_context():
            record = db.session.scalar(select(McpApiKey).where(McpApiKey.key_hash == hash_key(key)))
            calls = db.session.scalars(
                select(AuditEvent).where(AuditEvent.kind == "tool_call", AuditEvent.key_id == record.id)
            ).all()
        if record.last_used_at is not None and len(calls) == 5:
            break
        time.sleep(0.2)
    assert record.last_used_at is not None
    assert [c.tool for c in calls] == ["whoami"] * 5
    assert all(c.ok and c.key_id == record.id and c.user_id == record.user_id for c in calls)
    assert all(c.duration_ms is not None and c.client_ip == "127.0.0.1" for c in calls)


async def test_raw_key_is_stored_nowhere_in_the_database_or_the_worker_log(worker, app, make_user, make_key):
    key = make_key(make_user())
    post_mcp(worker, key_headers(key))
    async with mcp_client(worker.url, key, transport="sse") as client:
        await client.call_tool("whoami", {})
    _revoke(app, key)
    deadline = time.monotonic() + 10  # the worker caches an accepted key for a second
    while (response := post_mcp(worker, key_headers(key))).status_code != 401:
        assert time.monotonic() < deadline, "a revoked key was still accepted"
        time.sleep(0.1)
    assert _refusal(response)[1] == "revoked"
    log = worker.log()
    assert key not in log and key[4:36] not in log
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(text(f"SELECT * FROM {table.name}")):
                dump = " ".join(str(value) for value in row)
                assert key not in dump and key[4:] not in dump, table.name


def test_healthz(worker, database_url):
    response = requests.get(f"{worker.url}/healthz", timeout=5)
    expected = {"status": "ok", "database": "ok", "version": "0.1.0"}
    if database_url.startswith("postgresql"):
        expected["notifications"] = "listening"  # the LISTEN connection that carries revocations
    assert response.json() == expected


def test_worker_that_cannot_reach_its_database_exits_with_one_line(tmp_path):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgresql://pm:hunter2pw@127.0.0.1:9/pm",
        "SECRET_KEY": "x",
        "CREDENTIALS_KEY": "Z2V0LWEtMzItYnl0ZS1rZXktZm9yLXRoZS10ZXN0cyE=",
        "INSTANCE_PATH": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "mcp_worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "postgresql+psycopg://pm:***@127.0.0.1:9/pm" in errors[0]
    assert "hunter2pw" not in result.stderr and "Traceback" not in result.stderr


async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(
    worker_env, tmp_path, app, make_user, make_key
):
    """FORWARDED_ALLOW_IPS lists the proxy (here 127.0.0.1, where the test connects from)."""
    key = make_key(make_user())
    proxied = start_worker(
        {**worker_env, "MCP_AUTH_FAILURE_LIMIT": "3", "FORWARDED_ALLOW_IPS": "10.9.0.0/16, 127.0.0.1"},
        tmp_path / "proxied.log",
    )
    try:
        alice = {"X-Forwarded-For": "198.51.100.7"}
        bob = {"X-Forwarded-For": "203.0.113.50, 10.9.0.4"}  # through a second, listed proxy
        for _ in range(3):
            assert post_mcp(proxied, {**WRONG_KEY, **alice}).status_code == 401
        assert post_mcp(proxied, {**WRONG_KEY, **alice}).status_code == 429
        # Another client behind the same proxy is not throttled for the first one's failures.
        assert post_mcp(proxied, {**WRONG_KEY, **bob}).status_code == 401
        async with mcp_client(proxied.url, key, headers=bob) as client:
            assert not (await client.call_tool("whoami", {})).is_error
        rows = _tool_calls(app, key, count=1)
        assert [row.client_ip for row in rows] == ["203.0.113.50"]
        deadline = time.monotonic() + 5
        while '203.0.113.50:0 "POST /mcp' not in proxied.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert '198.51.100.7:0 "POST /mcp' in proxied.log() and '203.0.113.50:0 "POST /mcp' in proxied.log()
    finally:
        proxied.stop()


async def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(worker, app, make_user, make_key):
    key = make_key(make_user())
    async with mcp_client(worker.url, key, headers={"X-Forwarded-For": "198.51.100.7"}) as client:
        assert not (await client.call_tool("whoami", {})).is_error
    assert [row.client_ip for row in _tool_calls(app, key, count=1)] == ["127.0.0.1"]
    assert "198.51.100.7" not in worker.log()


def _tool_calls(app, key: str, *, count: int) -> list[AuditEvent]:
    """The audit rows of `key`'s tool calls, once `count` of them were written (they are batched)."""
    deadline = time.monotonic() + 5
    while True:
        with app.app_context():
            record = db.session.scalar(select(McpApiKey).where(McpApiKey.key_hash == hash_key(key)))
            rows = db.session.scalars(
                select(AuditEvent).where(AuditEvent.kind == "tool_call", AuditEvent.key_id == record.id)
            ).all()
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)

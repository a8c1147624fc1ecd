"""The worker's server in process: a session is someone's only through a verified credential."""

from __future__ import annotations

import pytest
from mcp import Client

from portal.core.principals import CredentialRejected

from .harness import in_process_client

pytestmark = pytest.mark.anyio


async def test_a_session_opened_with_a_key_is_its_holders(in_process_worker, make_user, make_key):
    key = make_key(make_user("ana@example.com", "Ana Silva"))
    async with in_process_client(in_process_worker, key) as client:
        result = await client.call_tool("whoami", {})
    assert not result.is_error
    assert result.structured_content["email"] == "ana@example.com"


async def test_a_credential_is_verified_as_over_http(in_process_worker):
    with pytest.raises(CredentialRejected) as refused:
        async with in_process_worker.signed_in("mcp_not-a-key"):
            pass
    assert refused.value.reason == "malformed"
    with pytest.raises(CredentialRejected) as refused:
        async with in_process_worker.signed_in("mcp_" + "0" * 64):
            pass
    assert refused.value.reason == "unknown"


async def test_a_session_opened_without_a_credential_calls_nothing(in_process_worker):
    async with Client(in_process_worker.server) as client:
        result = await client.call_tool("whoami", {})
    assert result.is_error
    assert "no verified MCP API key" in result.content[0].text

"""A vendor that echoes the token in an error body: tool results carry none of its forms; and a
read-only key's connection check changes nothing stored."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from sqlalchemy import select

from portal.core.models import ProviderConnection
from portal.core.redaction import redact, secret_forms
from portal.extensions import db

from . import worlds
from .harness import mcp_client

pytestmark = pytest.mark.anyio


def _forms(email: str, token: str) -> dict[str, str]:
    basic = base64.b64encode(f"{email}:{token}".encode()).decode()
    return {
        "raw": token,
        "basic header": f"Basic {basic}",
        "basic": basic,
        "url-encoded": quote(token, safe=""),
        "url-encoded basic": quote(basic, safe=""),
        "token base64": base64.b64encode(token.encode()).decode(),
    }


async def test_a_token_echoed_by_the_vendor_never_reaches_the_tool_result(
    worker, app, make_user, make_key, jira_fake
):
    ana = make_user()
    email, token = jira_fake.credentials()
    worlds.add_connection(
        app, ana, provider="jira", slug="echo", url=jira_fake.base_url, token=token, username=email
    )
    forms = _forms(email, token)
    echo = "; ".join(f"{name}={value}" for name, value in forms.items())
    key = make_key(ana)
    async with mcp_client(worker.url, key) as client:
        jira_fake.fail_next(
            400, body={"errorMessages": [f"Bad request from {echo}"], "errors": {"summary": echo}}
        )
        result = await client.call_tool("get_project", {"project": "echo:ALPHA"})
        jira_fake.fail_next(401, body={"errorMessages": [f"Who is {echo}?"], "errors": {}})
        refused = await client.call_tool("get_project", {"project": "echo:ALPHA"})
    for outcome in (result, refused):
        assert outcome.is_error
        text = outcome.content[0].text
        assert "JIRA" in text and "[token]" in text, text
        for name, value in forms.items():
            assert value not in text, f"the {name} form of the token is in: {text}"
    assert token not in worker.log()


def test_every_form_of_a_token_with_url_special_characters_is_redacted():
    token = "ab+c/d=e&f g%h"
    username = "ana@example.com"
    basic = base64.b64encode(f"{username}:{token}".encode()).decode()
    text = f"raw {token} url {quote(token, safe='')} plus {quote(token, safe='').replace('%20', '+')} basic {basic}"
    cleaned = redact(text, secret_forms(token, username))
    assert token not in cleaned and quote(token, safe="") not in cleaned and basic not in cleaned
    assert cleaned.count("[token]") == 4
    assert redact("nothing here", secret_forms(token, username)) == "nothing here"


def _last_checked(app, slug: str):
    with app.app_context():
        row = db.session.scalars(select(ProviderConnection).where(ProviderConnection.slug == slug)).one()
        return row.last_checked_at, row.last_check_ok, row.last_check_error


async def test_a_read_only_key_checks_connections_without_writing(
    worker, app, make_user, make_key, jira_fake
):
    ana = make_user()
    email, token = jira_fake.credentials()
    worlds.add_connection(
        app, ana, provider="jira", slug="acme", url=jira_fake.base_url, token=token, username=email
    )
    stored = _last_checked(app, "acme")
    jira_fake.fail_next(401, count=10)
    async with mcp_client(worker.url, make_key(ana, name="reader", read_only=True)) as client:
        result = await client.call_tool("list_connections", {"check": True})
    assert not result.is_error
    (checked,) = [c for c in result.structured_content["connections"] if c["slug"] == "acme"]
    assert checked["state"] == "failing"  # the reader sees the check's result ...
    assert _last_checked(app, "acme") == stored  # ... and nothing was written

    async with mcp_client(worker.url, make_key(ana, name="writer")) as client:
        result = await client.call_tool("list_connections", {"check": True})
    after = _last_checked(app, "acme")
    assert after != stored and after[1] is False  # a read-write key records it

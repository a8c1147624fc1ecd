"""The portal's "test connection" under the vendor limits, and with a vendor that echoes the token."""

from __future__ import annotations

import base64
from dataclasses import replace
from urllib.parse import quote

from portal.core.providers.http import HttpPolicy
from tests.conftest import post_form
from tests.contract.suite import TEST_POLICY
from tests.fakes.clickup import TOKEN

from .test_connections_pages import add_clickup, clickup, connections, flashes, page_text, signed_in  # noqa: F401


def _check(client) -> str:
    response = post_form(
        client, "/connections/acme-clickup/check", {}, page="/connections/", follow_redirects=True
    )
    return page_text(response)


def test_test_connection_is_bounded_by_the_deadline_and_the_size_cap(client, app, signed_in, clickup):  # noqa: F811
    add_clickup(client, clickup.base_url)
    app.extensions["pm_http_policy"] = replace(
        TEST_POLICY, deadline=2, read_timeout=20, max_response_bytes=64 * 1024
    )
    clickup.misbehave("drip")
    (message,) = flashes(_check(client))
    assert "ClickUp" in message and "2 seconds" in message and "VENDOR_DEADLINE_SECONDS" in message
    clickup.misbehave("oversize", size=20 * 1024 * 1024)
    (message,) = flashes(_check(client))
    assert "ClickUp" in message and "VENDOR_MAX_RESPONSE_BYTES=65536" in message


def test_the_portal_policy_takes_the_limits_from_the_settings(app_config):
    from portal.app import create_app

    app = create_app({**app_config, "VENDOR_DEADLINE_SECONDS": "7", "VENDOR_MAX_RESPONSE_BYTES": "100000"})
    policy: HttpPolicy = app.extensions["pm_http_policy"]
    assert policy.deadline == 7 and policy.max_response_bytes == 100000


def test_an_echoed_token_is_not_shown_or_stored(client, app, signed_in, clickup):  # noqa: F811
    add_clickup(client, clickup.base_url)
    echo = f"raw {TOKEN} basic {base64.b64encode(TOKEN.encode()).decode()} url {quote(TOKEN, safe='')}"
    clickup.fail_next(500, count=5, body={"err": f"Internal error for {echo}", "ECODE": "ITEM_015"})
    html = _check(client)
    (message,) = flashes(html)
    assert "[token]" in message
    assert TOKEN not in html and base64.b64encode(TOKEN.encode()).decode() not in html
    (row,) = connections(app)
    assert TOKEN not in (row.last_check_error or "") and "[token]" in row.last_check_error

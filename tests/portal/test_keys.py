import json
import logging
import re
from html import unescape

from sqlalchemy import select

from portal.core.keys import hash_key
from portal.core.models import AuditEvent, McpApiKey
from portal.core.toolsets import DEFAULT_TOOLSETS
from portal.extensions import db
from tests.conftest import PASSWORD, AuthActions, post_form

KEY_RE = re.compile(r"mcp_[0-9a-f]{64}")


def create_key(client, name="laptop", app_client="cursor", expires="90", read_only=False):
    data = {"name": name, "client": app_client, "expires": expires, "toolsets": sorted(DEFAULT_TOOLSETS)}
    if read_only:
        data["read_only"] = "y"
    return post_form(client, "/keys/", data)


def keys_of(app) -> list[McpApiKey]:
    with app.app_context():
        return db.session.scalars(select(McpApiKey).order_by(McpApiKey.id)).all()


def test_create_shows_the_key_once_with_a_config(client, app, auth, caplog):
    caplog.set_level(logging.DEBUG)
    auth.create_user()
    auth.login()
    response = create_key(client)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    raw = KEY_RE.search(html).group(0)
    (key,) = keys_of(app)
    assert key.key_hash == hash_key(raw) and key.key_prefix == raw[:12]
    assert key.expires_at is not None and key.client == "cursor"
    assert '"mcpServers"' in html and "pm-server" in html and "http://127.0.0.1:8080/mcp" in html
    assert "http://127.0.0.1:8080/sse" in html
    assert response.headers["Cache-Control"] == "no-store"
    # Never again: not on the list, not on any page.
    for page in ("/keys/", "/", "/account"):
        assert raw not in client.get(page).get_data(as_text=True)
    listing = client.get("/keys/").get_data(as_text=True)
    assert "laptop" in listing and raw[:12] in listing and "active" in listing
    assert raw not in caplog.text and raw[4:36] not in caplog.text  # nor in the portal's logs


def test_vscode_offers_the_prompting_variant(client, auth):
    auth.create_user()
    auth.login()
    html = unescape(create_key(client, app_client="vscode").get_data(as_text=True))
    assert "${input:pm-mcp-key}" in html and "promptString" in html


def test_duplicate_name_is_reported_next_to_the_field(client, app, auth):
    auth.create_user()
    auth.login()
    create_key(client)
    response = create_key(client)
    assert "already have a key named" in response.get_data(as_text=True)
    assert len(keys_of(app)) == 1


def test_revoke_and_rotate(client, app, auth):
    auth.create_user()
    auth.login()
    first_raw = KEY_RE.search(create_key(client, read_only=True).get_data(as_text=True)).group(0)
    (key,) = keys_of(app)
    rotated = post_form(client, f"/keys/{key.id}/rotate", {"confirmed": "yes"}, page="/keys/")
    second_raw = KEY_RE.search(rotated.get_data(as_text=True)).group(0)
    assert second_raw != first_raw
    old, new = keys_of(app)
    assert old.revoked_at is not None and new.revoked_at is None
    assert (new.name, new.client, new.read_only) == ("laptop", "cursor", True)
    assert new.key_hash == hash_key(second_raw)
    post_form(client, f"/keys/{new.id}/revoke", {"confirmed": "yes"}, page="/keys/")
    assert all(k.revoked_at is not None for k in keys_of(app))
    listing = client.get("/keys/").get_data(as_text=True)
    assert listing.count("revoked") >= 2
    with app.app_context():
        kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds[-4:] == ["key_created", "key_rotated", "key_created", "key_revoked"]
    # The name is free again once no live key has it.
    assert KEY_RE.search(create_key(client).get_data(as_text=True))


def test_key_actions_need_csrf(client, app, auth):
    auth.create_user()
    auth.login()
    create_key(client)
    (key,) = keys_of(app)
    assert client.post(f"/keys/{key.id}/revoke").status_code == 400
    assert keys_of(app)[0].revoked_at is None


def test_another_users_keys_are_404(client, app, auth):
    auth.create_user()
    auth.login()
    create_key(client)
    (key,) = keys_of(app)
    auth.create_user(email="bo@example.com", name="Bo")
    bo = app.test_client()
    AuthActions(bo, app).login("bo@example.com", PASSWORD)
    assert "laptop" not in bo.get("/keys/").get_data(as_text=True)
    assert post_form(bo, f"/keys/{key.id}/revoke", {"confirmed": "yes"}, page="/keys/").status_code == 404
    assert post_form(bo, f"/keys/{key.id}/rotate", {"confirmed": "yes"}, page="/keys/").status_code == 404
    assert keys_of(app)[0].revoked_at is None


def test_snippets_are_valid_for_every_client():
    from portal.core.client_configs import snippets_for
    from portal.core.models import MCP_CLIENTS

    key = "mcp_" + "a" * 64
    for client in MCP_CLIENTS:
        snippets = snippets_for(client, "https://mcp.example.com", key)
        assert any("/mcp" in s.text for s in snippets) and any("/sse" in s.text for s in snippets)
        for snippet in snippets:
            if snippet.language == "json":
                json.loads(snippet.text)
    cursor = json.loads(snippets_for("cursor", "https://mcp.example.com", key)[0].text)
    assert cursor == {
        "mcpServers": {"pm-server": {"url": "https://mcp.example.com/mcp", "headers": {"X-MCP-API-Key": key}}}
    }
    windsurf = json.loads(snippets_for("windsurf", "https://mcp.example.com", key)[0].text)
    assert windsurf["mcpServers"]["pm-server"]["serverUrl"] == "https://mcp.example.com/mcp"
    vscode = json.loads(snippets_for("vscode", "https://mcp.example.com", key)[1].text)
    assert vscode["servers"]["pm-server"]["type"] == "http"
    claude_code = snippets_for("claude-code", "https://mcp.example.com", key)[0].text
    assert (
        claude_code
        == f"claude mcp add --transport http pm-server https://mcp.example.com/mcp --header 'X-MCP-API-Key: {key}'"
    )
    desktop = json.loads(snippets_for("claude-desktop", "http://127.0.0.1:8080", key)[0].text)
    server = desktop["mcpServers"]["pm-server"]
    assert server["command"] == "npx" and server["args"][:2] == ["mcp-remote", "http://127.0.0.1:8080/mcp"]
    assert "--allow-http" in server["args"] and server["env"] == {"PM_MCP_KEY": key}


def test_a_key_gets_the_toolsets_ticked_and_the_page_shows_their_cost(client, app, auth):
    from portal.core.toolsets import listing_cost

    auth.create_user()
    auth.login()
    form = unescape(client.get("/keys/").get_data(as_text=True))
    ticked = set(
        re.findall(
            r'name="toolsets"[^>]*value="(\w+)"[^>]*checked|checked[^>]*name="toolsets"[^>]*value="(\w+)"',
            form,
        )
    )
    ticked = {a or b for a, b in ticked}
    assert ticked == DEFAULT_TOOLSETS  # every toolset but bulk, unless the user changes it
    alone, tasks = listing_cost(set(), read_only=False), listing_cost({"tasks"}, read_only=False)
    label = (
        f"tasks: Tasks, comments, people, statuses and projects ({tasks.tools - alone.tools} tools, "
        f"about {tasks.tokens - alone.tokens:,} tokens)"
    )
    assert label in form
    response = post_form(
        client,
        "/keys/",
        {"name": "sprinter", "client": "cursor", "expires": "90", "toolsets": ["tasks", "sprints"]},
    )
    assert response.status_code == 200 and KEY_RE.search(response.get_data(as_text=True))
    [key] = keys_of(app)
    assert key.toolsets == ["tasks", "sprints"]
    cost = listing_cost({"tasks", "sprints"}, read_only=False)
    assert 0 < cost.tools and cost.tokens > 1000
    listing = unescape(client.get("/keys/").get_data(as_text=True))
    assert f"tasks, sprints: {cost.tools} tools, about {cost.tokens:,} tokens" in listing
    detail = unescape(client.get(f"/keys/{key.id}").get_data(as_text=True))
    assert f"tasks, sprints: {cost.tools} tools, about {cost.tokens:,} tokens" in detail


def test_a_key_with_no_toolset_ticked_is_refused(client, app, auth):
    auth.create_user()
    auth.login()
    response = post_form(client, "/keys/", {"name": "empty", "client": "cursor", "expires": "90"})
    assert "Tick at least one toolset." in response.get_data(as_text=True)
    assert keys_of(app) == []


def test_create_key_with_toolsets_from_the_command_line(app, runner, auth):
    auth.create_user()
    result = runner.invoke(
        args=["create-key", "ana@example.com", "--name", "cli", "--toolsets", "tasks,Sprints"]
    )
    assert result.exit_code == 0, result.output
    plain = runner.invoke(args=["create-key", "ana@example.com", "--name", "plain"])
    assert plain.exit_code == 0, plain.output
    assert [key.toolsets for key in keys_of(app)] == [
        ["tasks", "sprints"],
        ["tasks", "sprints", "work", "analytics"],
    ]
    bad = runner.invoke(args=["create-key", "ana@example.com", "--name", "bad", "--toolsets", "tasks,buk"])
    assert bad.exit_code != 0
    assert "Unknown toolset 'buk'; choose among: tasks, sprints, work, analytics, bulk." in bad.output
    assert "Traceback" not in bad.output
    assert len(keys_of(app)) == 2

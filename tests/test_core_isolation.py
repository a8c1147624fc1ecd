"""The shared core and the worker import no Flask module; the core imports no MCP module either."""

import subprocess
import sys

CORE = (
    "import portal.core.models, portal.core.keys, portal.core.vault, portal.core.config, portal.core.db\n"
    "import portal.core.providers.base, portal.core.providers.http, portal.core.providers.registry\n"
    "import portal.core.services.connections, portal.core.services.resolve, portal.core.services.analytics\n"
    "import portal.core.services.activity, portal.core.services.my_tasks, portal.core.services.fan_out\n"
    "import portal.core.services.active_sprints\n"
    "import portal.core.providers.jira, portal.core.providers.openproject, portal.core.providers.clickup\n"
    "import portal.core.providers.redmine, portal.core.providers.local\n"
)
REPORT = (
    "import sys\n"
    "def loaded(*names):\n"
    "    return sorted(m for m in sys.modules if m in names or m.startswith(tuple(n + '.' for n in names)))\n"
    "print('flask:' + ','.join(loaded('flask', 'flask_login', 'flask_sqlalchemy', 'flask_migrate', 'flask_wtf')))\n"
    "print('mcp:' + ','.join(loaded('mcp')))\n"
)


def _loaded(code: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", code + REPORT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split(":", 1) for line in result.stdout.splitlines())


def test_core_imports_neither_flask_nor_mcp():
    loaded = _loaded(CORE)
    assert loaded == {"flask": "", "mcp": ""}


def test_the_worker_imports_no_flask():
    loaded = _loaded(CORE + "import mcp_worker.app, mcp_worker.__main__\nmcp_worker.app.WorkerApp\n")
    assert loaded["flask"] == ""
    assert loaded["mcp"]  # the check itself works: the worker does load the MCP SDK

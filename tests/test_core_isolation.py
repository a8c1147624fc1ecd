"""The shared core and the worker import no Flask module."""

import subprocess
import sys

CHECK = """
import sys
import portal.core.models, portal.core.keys, portal.core.vault, portal.core.config, portal.core.db
import portal.core.providers.base, portal.core.providers.http, portal.core.providers.registry
{extra}
loaded = sorted(m for m in sys.modules if m == "flask" or m.startswith(("flask.", "flask_")))
print(",".join(loaded))
"""


def _loaded_flask_modules(extra: str = "") -> str:
    result = subprocess.run(
        [sys.executable, "-c", CHECK.format(extra=extra)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_core_imports_no_flask():
    assert _loaded_flask_modules() == ""


def test_core_imports_no_mcp():
    code = CHECK.format(extra="") + "\nprint(any(m == 'mcp' or m.startswith('mcp.') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "False"

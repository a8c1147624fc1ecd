#!/usr/bin/env bash
# Install the off-the-shelf MCP clients the end-to-end tests drive (tests/clients/): mcp-remote, as
# Claude Desktop runs it, and the MCP Inspector CLI with the Node.js 22 it needs, into .test-clients/
# (ignored by git). The versions are those of tests/clients/package-lock.json.
#
#   bash scripts/install-test-clients.sh        (.ci/run does this before `make test`)
#
# Quick and offline after the first time: nothing is fetched while the installed tree matches the
# lock file; a changed lock file reinstalls (from npm's cache where it can).
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=${TEST_CLIENTS_DIR:-.test-clients}
SPEC=tests/clients
digest=$(cat "$SPEC/package.json" "$SPEC/package-lock.json" | sha256sum | cut -c1-16)
stamp="$DEST/.installed-$digest"

if [ -f "$stamp" ] && [ -x "$DEST/node_modules/.bin/node" ]; then
    echo "Test clients are up to date in $DEST."
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "Error: npm is needed to install the test clients (Node.js 18 or newer with npm)." >&2
    exit 1
fi

mkdir -p "$DEST"
rm -f "$DEST"/.installed-*
cp "$SPEC/package.json" "$SPEC/package-lock.json" "$DEST/"
(cd "$DEST" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)

node22="$DEST/node_modules/.bin/node"
version=$("$node22" --version)
case "$version" in
    v22.*) ;;
    *) echo "Error: $node22 is $version, not Node.js 22." >&2; exit 1 ;;
esac
touch "$stamp"
echo "Installed mcp-remote and the MCP Inspector CLI (Node.js $version) in $DEST."

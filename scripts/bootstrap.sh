#!/usr/bin/env bash
# Installs everything Coffer's build and tests need on a fresh machine with Node 20 + npm:
# pnpm (pinned), Debian packages (see below), then the workspace's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  # corepack fails against this registry; a global npm install works.
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

need_apt=()
command -v age >/dev/null 2>&1 || need_apt+=(age)
# PostgreSQL: the vault's second store is tested against a real, throwaway cluster.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# A C toolchain and Python: node-gyp builds better-sqlite3 and Coffer's two addons (the STREAM
# batcher, batched small-file I/O).
{ command -v cc && command -v make && command -v g++; } >/dev/null 2>&1 || need_apt+=(build-essential)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# libdeflate: its SIMD CRC-32 (about 5x zlib's) is what upload verification runs in the batcher.
[ -f /usr/include/libdeflate.h ] || need_apt+=(libdeflate-dev)
# fincore: the batched reader's test checks that files are out of the page cache before reading them.
command -v fincore >/dev/null 2>&1 || need_apt+=(util-linux-extra)
# dash and shellcheck: the emergency kit's restore.sh is tested under dash and linted as POSIX sh.
command -v dash >/dev/null 2>&1 || need_apt+=(dash)
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
# systemd-analyze: checks contrib/systemd's units (apps/sync/test/contrib-units.test.ts).
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
# restic: the peer `pnpm bench` compares the app against (not needed by the tests).
command -v restic >/dev/null 2>&1 || need_apt+=(restic)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "bootstrap: please install Debian packages: ${need_apt[*]} (sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

pnpm install --frozen-lockfile --reporter=append-only | tail -n 3

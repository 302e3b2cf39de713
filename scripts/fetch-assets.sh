#!/usr/bin/env bash
# Install the map's browser assets (地图前端资源: Leaflet) from npm into maps/assets/node_modules.
# Idempotent: runs `npm ci` only when node_modules is missing or older than package-lock.json.
# Versions are pinned in maps/assets/package.json and package-lock.json; nothing is committed.
set -euo pipefail

self="${BASH_SOURCE[0]}"
[[ "$self" == */* ]] || self="./$self"
here="$(cd "${self%/*}/.." && pwd)"
assets="$here/maps/assets"
stamp="$assets/node_modules/.package-lock.json"   # written by npm on every install

say() { printf 'fetch-assets: %s\n' "$*"; }

if ! command -v npm >/dev/null 2>&1; then
    printf '%s\n' \
        "fetch-assets: 未找到 npm。请先安装 Node.js 和 npm（例如 apt-get install nodejs npm），再运行本脚本。" \
        "fetch-assets: npm not found. Install Node.js and npm (e.g. apt-get install nodejs npm), then run this script again." >&2
    exit 1
fi

if [[ ! -f "$assets/package-lock.json" ]]; then
    printf '%s\n' \
        "fetch-assets: 缺少 $assets/package-lock.json。" \
        "fetch-assets: $assets/package-lock.json is missing." >&2
    exit 1
fi

if [[ -f "$stamp" && ! "$assets/package-lock.json" -nt "$stamp" ]]; then
    say "up to date: $assets/node_modules (newer than package-lock.json); nothing to do"
    exit 0
fi

if [[ -d "$assets/node_modules" ]]; then
    say "node_modules is older than package-lock.json: reinstalling"
else
    say "node_modules is missing: installing"
fi
say "running: npm ci --ignore-scripts --no-audit --no-fund (in $assets)"
(cd "$assets" && npm ci --ignore-scripts --no-audit --no-fund)

leaflet="$assets/node_modules/leaflet/dist/leaflet.js"
if [[ ! -f "$leaflet" ]]; then
    printf '%s\n' \
        "fetch-assets: npm ci 完成，但没有找到 $leaflet。" \
        "fetch-assets: npm ci finished but $leaflet is missing." >&2
    exit 1
fi
say "installed: $(cd "$assets" && node -p 'Object.entries(require("./package-lock.json").packages).filter(([k]) => k).map(([k, v]) => k.replace("node_modules/", "") + "@" + v.version).join(" ")')"

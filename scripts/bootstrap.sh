#!/usr/bin/env bash
# VillageMap set-up: installs what this machine lacks, idempotently, and says what it does.
#   scripts/bootstrap.sh          everything needed to run the service
#   scripts/bootstrap.sh --test   plus what the tests need (Chromium, a CJK font)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

packages=()
if [ -z "${DATABASE_URL:-}${VILLAGEMAP_DATABASE_URL:-}" ]; then
  packages+=(postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting)
fi
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
packages+=(fonts-wqy-microhei)   # Chinese text in photo watermarks (and in the browser tests)
if [ "$want_test" = 1 ]; then
  packages+=(chromium gdal-bin)   # headless browser tests; ogr2ogr for the import benchmark's smoke test
  packages+=(wrk)                 # HTTP load for the benchmark suite's smoke test (tests/test_bench_smoke.py)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "缺少系统软件包 / missing Debian packages: ${missing[*]}"
    say "请以 root 运行 / run as root: apt-get install -y --no-install-recommends ${missing[*]}"
    say "或设置 DATABASE_URL 指向已有的 PostGIS ≥ 3.3 / or set DATABASE_URL to an existing PostGIS >= 3.3"
    exit 1
  fi
  say "安装系统软件包 / installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "系统软件包齐全 / Debian packages present"
fi

python=""
for candidate in "${PYTHON:-}" python3.11 python3; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    python="$candidate"; break
  fi
done
if [ -z "$python" ]; then
  say "需要 Python 3.11 / Python 3.11 is required (set PYTHON=/path/to/python3.11)"
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  say "创建虚拟环境 / creating .venv with $python"
  "$python" -m venv .venv
fi
stamp=.venv/.villagemap-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "安装 Python 依赖 / installing the package and its dependencies (pyproject.toml)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
else
  say "Python 依赖已安装 / Python dependencies up to date"
fi

scripts/fetch-assets.sh

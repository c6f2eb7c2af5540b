#!/usr/bin/env bash
# Makes a fresh clone runnable: npm packages, the native line driver, and the Debian packages
# offhook runs (nats-server, espeak-ng, sox) or tests against (ngircd, mariadb, promtool).
# Installs what is missing when it can (root + apt-get); otherwise fails with one line saying what to run.
# Usage: deploy/bootstrap.sh [run|test]   (npm's prestart/pretest call it; the mode is inferred from npm)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  ''|run|test) ;;
  *) echo "offhook bootstrap: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac
mode=${1:-}
if [ -z "$mode" ]; then
  case "${npm_lifecycle_event:-}" in
    pretest|test) mode=test ;;
    *) mode=run ;;
  esac
fi

fail() { echo "offhook bootstrap: $*" >&2; exit 1; }

node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a>20||(a===20&&b>=19)?1:0)' 2>/dev/null || echo 0)
[ "$node_ok" = 1 ] || fail "Node.js >= 20.19 is required (found $(node --version 2>/dev/null || echo none)); install it, e.g. apt-get install -y nodejs npm"

# command -> Debian package
declare -A needed=( [nats-server]=nats-server [espeak-ng]=espeak-ng [sox]=sox )
if [ "$mode" = test ]; then
  needed[ngircd]=ngircd
  needed[mariadbd]=mariadb-server
  needed[baresip]=baresip-core
  needed[sipp]=sip-tester
  needed[prometheus-alertmanager]=prometheus-alertmanager
  needed[/usr/lib/nagios/plugins/check_tcp]=monitoring-plugins-basic
  # promtool lints each process's /metrics (test/deploy/promtool.test.ts); Debian ships it only in the server package.
  needed[promtool]=prometheus
  # The web console's browser tests drive Debian's chromium through playwright-core (no browser download).
  needed[chromium]=chromium
fi
missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "$cmd" ] || missing+=("${needed[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "offhook bootstrap: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    fail "missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
  fi
fi

# Decided by the lock file's content, not its mtime: a checkout or clone rewrites package-lock.json with a new mtime
# and the same content, and an npm ci then (slow, needless) would also pull node_modules from under a running test.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.offhook-lock-sha256
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  if [ -d node_modules ] && [ -f node_modules/.package-lock.json ] && [ ! -f "$stamp" ] \
    && ! [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # Installed before this stamp existed and not older than the lock file: trust it once and stamp it.
    :
  else
    echo "offhook bootstrap: installing npm packages (npm ci)" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2 || fail "npm ci failed; run: npm ci"
  fi
  # A new file renamed into place: node_modules may be hard links into another checkout's, never rewritten in place.
  echo "$lock_hash" > "$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
fi
# Rebuilt when missing or older than its sources (a pull that changed native/src must not run a stale addon).
addon=native/build/Release/offhook_line.node
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp native/vpb-shim.sh -newer "$addon" -print -quit)" ]; then
  echo "offhook bootstrap: building native/ (npm rebuild --workspace native)" >&2
  npm rebuild --workspace native >&2 || fail "building native/ failed; run: npm rebuild --workspace native (needs g++, make, python3)"
fi

if [ "$mode" = test ]; then
  # The MySQL probe is tested against the machine's MariaDB on 127.0.0.1:3306; start it if it is down.
  if ! (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      echo "offhook bootstrap: starting MariaDB" >&2
      start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 || true
      for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null && break; sleep 0.1; done
    fi
    (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null || fail "MariaDB is not listening on 127.0.0.1:3306; run: sudo start-stop-daemon --start --background --exec /usr/sbin/mariadbd"
  fi
fi
exit 0

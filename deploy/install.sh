#!/usr/bin/env bash
# Installs offhook from this source tree: code under /opt/offhook, configs under /etc/offhook (never overwriting
# one that exists), systemd units, and the `offhook` system user. Safe to run again: that is how you upgrade.
#
# Usage: deploy/install.sh [options]
#   --prefix DIR          code (default /opt/offhook); written into the units
#   --etc DIR             configs (default /etc/offhook); written into the units
#   --unit-dir DIR        systemd units (default /etc/systemd/system)
#   --destdir DIR         stage everything under DIR (packaging, tests); implies --no-system. Also $DESTDIR.
#   --no-system           do not create the user, chown, or call systemctl
#   --node-modules MODE   ci: `npm ci --omit=dev` in the new tree (default; needs the registry and a C++ toolchain)
#                         copy: reuse this tree's node_modules and built native addon, pruned of dev packages (offline)
#   --with-nats-dropin    also install the nats-server.service drop-in (on the NATS host)
#   -h, --help
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/offhook
etc=/etc/offhook
unit_dir=/etc/systemd/system
destdir=${DESTDIR:-}
system=1
node_modules=ci
nats_dropin=0
user=offhook

say() { printf 'offhook install: %s\n' "$*"; }
fail() { printf 'offhook install: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || fail "$1 needs a value (see --help)"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) need_value "$@"; prefix=$2; shift 2 ;;
    --etc) need_value "$@"; etc=$2; shift 2 ;;
    --unit-dir) need_value "$@"; unit_dir=$2; shift 2 ;;
    --destdir) need_value "$@"; destdir=$2; shift 2 ;;
    --no-system) system=0; shift ;;
    --node-modules) need_value "$@"; node_modules=$2; shift 2 ;;
    --with-nats-dropin) nats_dropin=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'offhook install: unknown option %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
case "$node_modules" in ci|copy) ;; *) fail "--node-modules: expected ci or copy, got \"$node_modules\"" ;; esac
for path in "$prefix" "$etc" "$unit_dir"; do
  case "$path" in /*) ;; *) fail "paths must be absolute, got \"$path\"" ;; esac
done
[ -n "$destdir" ] && system=0
if [ "$system" = 1 ] && [ "$(id -u)" != 0 ]; then
  fail "creating the offhook user and installing units needs root: run with sudo, or use --destdir/--no-system"
fi

command -v node >/dev/null 2>&1 || fail "Node.js >= 20.19 is required; install it (apt-get install -y nodejs npm)"
node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a>20||(a===20&&b>=19)?1:0)')
[ "$node_ok" = 1 ] || fail "Node.js >= 20.19 is required (found $(node --version))"
[ -f "$src/package.json" ] && [ -f "$src/offhook.mjs" ] || fail "$src does not look like an offhook source tree"

code_dir=$destdir$prefix
etc_dir=$destdir$etc
units_dir=$destdir$unit_dir

# 1. Code: build the new tree next to the old one and swap, so a failed npm ci leaves the running install alone
#    and the previous version stays in $prefix.previous for a rollback.
new=$code_dir.new
rm -rf "$new"
mkdir -p "$new"
say "copying $src to $prefix"
(cd "$src" && tar -cf - --exclude=./.git --exclude=./node_modules --exclude=./native/node_modules --exclude=./test \
  --exclude=./bench --exclude=./.ci --exclude=./.offhook-demo --exclude=./native/build --exclude='*.log' .) | (cd "$new" && tar -xf -)

if [ "$node_modules" = copy ]; then
  [ -d "$src/node_modules" ] || fail "--node-modules copy: $src/node_modules is missing; run npm ci (or deploy/bootstrap.sh) first"
  say "copying node_modules and the built native addon, pruning dev packages"
  cp -a "$src/node_modules" "$new/node_modules"
  if [ -d "$src/native/build" ]; then cp -a "$src/native/build" "$new/native/build"; fi
  (cd "$new" && npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
    || fail "npm prune failed in $new"
else
  say "npm ci --omit=dev (builds the native addon)"
  (cd "$new" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2) \
    || fail "npm ci failed in $new; the installed version was not touched (needs the npm registry, g++, make, python3)"
fi

if [ -d "$code_dir" ]; then
  rm -rf "$code_dir.previous"
  mv "$code_dir" "$code_dir.previous"
fi
mv "$new" "$code_dir"
say "installed $(node -p "require('$code_dir/package.json').version") in $prefix"

# 2. Configs: an existing file is the operator's and is never touched; a changed example goes next to it as
#    <name>.dist so the difference can be reviewed.
mkdir -p "$etc_dir"
for example in "$src"/deploy/examples/*.yaml; do
  [ -e "$example" ] || continue
  name=$(basename "$example")
  target=$etc_dir/$name
  if [ ! -e "$target" ]; then
    install -m 0640 "$example" "$target"
    say "config $etc/$name: installed the example"
  elif cmp -s "$example" "$target"; then
    rm -f "$target.dist"
    say "config $etc/$name: kept (same as the example)"
  else
    install -m 0640 "$example" "$target.dist"
    say "config $etc/$name: kept yours; the new example is $etc/$name.dist (diff them)"
  fi
done

# 3. Units: ours, replaced on every install (local changes belong in drop-ins: systemctl edit offhook-agent).
mkdir -p "$units_dir"
for unit in "$src"/deploy/systemd/*.service; do
  name=$(basename "$unit")
  sed -e "s#/opt/offhook#$prefix#g" -e "s#/etc/offhook#$etc#g" "$unit" > "$units_dir/$name.tmp"
  chmod 0644 "$units_dir/$name.tmp"
  mv "$units_dir/$name.tmp" "$units_dir/$name"
done
say "units offhook-agent, offhook-collector, offhook-gateway installed in $unit_dir"
if [ "$nats_dropin" = 1 ]; then
  mkdir -p "$units_dir/nats-server.service.d"
  install -m 0644 "$src/deploy/systemd/nats-server.service.d/offhook.conf" "$units_dir/nats-server.service.d/offhook.conf"
  say "nats-server drop-in installed in $unit_dir/nats-server.service.d/"
fi

# 4. The system: user, ownership, systemd.
if [ "$system" = 1 ]; then
  if ! getent passwd "$user" >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/offhook --no-create-home --shell /usr/sbin/nologin "$user"
    say "created system user $user"
  fi
  # Configs hold NATS credentials and phone numbers: readable by offhook, writable by root only.
  chown root:"$user" "$etc_dir" "$etc_dir"/*.yaml 2>/dev/null || true
  chmod 0750 "$etc_dir"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload
    say "systemd reloaded"
  else
    say "systemd is not running here: run 'systemctl daemon-reload' where the units are used"
  fi
fi

cat <<EOF

Next steps:
  1. Edit the configs in $etc (agent.yaml on every server, collector.yaml and gateway.yaml on their hosts), then
       $prefix/offhook.mjs check-config $etc/*.yaml
  2. NATS: see $prefix/deploy/nats/README.md (TLS, one user per agent: deploy/nats/gen-users.ts).
  3. Start what runs on this host, e.g.
       systemctl enable --now offhook-agent
       systemctl enable --now offhook-collector offhook-gateway
  4. Logs: journalctl -u offhook-agent -f     Metrics: http://127.0.0.1:9464/metrics (agent), 9465 (collector), 9466 (gateway)
  Upgrade: run this script again; the previous version is kept in $prefix.previous.
EOF

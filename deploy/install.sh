#!/usr/bin/env bash
# Installs offhook from this source tree (the alternative to the Debian packages: npm run package): builds the
# bundles (npm run build, offline) into /opt/offhook, configs under /etc/offhook (never overwriting one that exists),
# systemd units, and the `offhook` system user. Safe to run again: that is how you upgrade.
# The target host needs only Node.js >= 20.19: no npm install, no compiler (the gateway's line addon and the trac
# notifier's better-sqlite3 are copied from this tree when built here).
#
# Usage: deploy/install.sh [options]
#   --prefix DIR          code (default /opt/offhook); written into the units
#   --etc DIR             configs (default /etc/offhook); written into the units
#   --unit-dir DIR        systemd units (default /etc/systemd/system)
#   --destdir DIR         stage everything under DIR (tests); implies --no-system. Also $DESTDIR.
#   --no-system           do not create the user, chown, or call systemctl
#   --with-nats-dropin    also install the nats-server.service drop-in (on the NATS host)
#   -h, --help
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/offhook
etc=/etc/offhook
unit_dir=/etc/systemd/system
destdir=${DESTDIR:-}
system=1
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
    --with-nats-dropin) nats_dropin=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'offhook install: unknown option %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
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
[ -d "$src/node_modules" ] || fail "$src/node_modules is missing: run npm ci (or deploy/bootstrap.sh) in the source tree first"

code_dir=$destdir$prefix
etc_dir=$destdir$etc
units_dir=$destdir$unit_dir

# 1. Code: build the new tree next to the old one and swap, so a failed build leaves the running install alone
#    and the previous version stays in $prefix.previous for a rollback.
new=$code_dir.new
rm -rf "$new"
say "building the bundles into $prefix (npm run build)"
(cd "$src" && npm run --silent build -- "$new" >&2) \
  || fail "npm run build failed; the installed version was not touched"
cp "$src/package.json" "$new/package.json"
mkdir -p "$new/doc" "$new/nats"
cp "$src/deploy/README.md" "$new/doc/deploy-README.md"
cp "$src/deploy/nats/README.md" "$new/doc/nats-README.md"
cp -p "$src"/deploy/nats/*.conf "$src"/deploy/nats/make-certs.sh "$new/nats/"
# The trac notifier's SQLite driver is native: reuse this tree's build if there is one (nothing else needs it).
if [ -f "$src/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then
  for module in better-sqlite3 bindings file-uri-to-path; do
    [ -d "$src/node_modules/$module" ] || continue
    mkdir -p "$new/node_modules/$module"
    (cd "$src/node_modules/$module" && tar -cf - --exclude=./src --exclude=./deps --exclude=./test --exclude='./build/Release/obj*' \
      --exclude='./build/Release/.deps' --exclude='./build/Release/test_extension.node' .) | (cd "$new/node_modules/$module" && tar -xf -)
  done
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
  sed -e "s#/usr/bin/offhook#$prefix/offhook#g" -e "s#/usr/share/doc/offhook/#$prefix/doc/#g" \
    -e "s#/etc/offhook#$etc#g" "$unit" > "$units_dir/$name.tmp"
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
       $prefix/offhook check-config $etc/*.yaml
  2. NATS: see $prefix/doc/nats-README.md (TLS: $prefix/nats/make-certs.sh; users: $prefix/nats/gen-users.mjs).
  3. Start what runs on this host, e.g.
       systemctl enable --now offhook-agent
       systemctl enable --now offhook-collector offhook-gateway
  4. Logs: journalctl -u offhook-agent -f     Metrics: http://127.0.0.1:9464/metrics (agent), 9465 (collector), 9466 (gateway)
  Upgrade: run this script again; the previous version is kept in $prefix.previous.
EOF

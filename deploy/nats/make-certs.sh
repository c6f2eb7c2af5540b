#!/usr/bin/env bash
# Makes the TLS files nats-server.conf and nats-cluster.conf expect, with openssl: a private CA, the server
# certificate (the names clients dial as subjectAltName), optionally the route certificate for a cluster and client
# certificates for mutual TLS. An existing CA is reused, so certificates made later verify against the same ca.crt.
#
# Usage: deploy/nats/make-certs.sh --names NAME[,NAME...] [options]
#   --names LIST      DNS names and IP addresses clients use for this server, e.g. nats1.example.net,10.0.0.5
#   --out DIR         where to write (default /etc/nats/tls); files: ca.crt ca.key server.crt server.key
#   --route           also route.crt/route.key (serverAuth+clientAuth) for nats-cluster.conf
#   --client NAME     also client-NAME.crt/.key (clientAuth) for mutual TLS; repeatable
#   --days N          validity of the new certificates (default 825; the CA gets 3650)
#   -h, --help
# Then: copy ca.crt to every offhook host (nats.tls.ca_file), keep ca.key offline, and run
#   nats-server -t -c /etc/nats/nats-server.conf
set -euo pipefail

out=/etc/nats/tls
names=
route=0
days=825
clients=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
fail() { printf 'make-certs: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'make-certs: %s (see --help)\n' "$*" >&2; exit 2; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || usage_error "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --names) need_value "$@"; names=$2; shift 2 ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --route) route=1; shift ;;
    --client) need_value "$@"; clients+=("$2"); shift 2 ;;
    --days) need_value "$@"; days=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option $1" ;;
  esac
done
[ -n "$names" ] || usage_error "--names is required: the DNS names and IPs clients dial"
case "$days" in ''|*[!0-9]*) usage_error "--days: expected a number of days, got \"$days\"" ;; esac
for client in "${clients[@]}"; do
  case "$client" in ''|*[!A-Za-z0-9._-]*) usage_error "--client: letters, digits, . _ - only, got \"$client\"" ;; esac
done
command -v openssl >/dev/null 2>&1 || fail "openssl is required (apt-get install openssl)"

san=
for name in ${names//,/ }; do
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then san+="IP:$name,"; else san+="DNS:$name,"; fi
done
san=${san%,}
first=${names%%,*}

mkdir -p "$out"
umask 077
cd "$out"

if [ ! -f ca.key ] || [ ! -f ca.crt ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=offhook NATS CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca.key -out ca.crt 2>/dev/null
  echo "make-certs: new CA $out/ca.crt"
else
  echo "make-certs: reusing CA $out/ca.crt"
fi

# issue NAME CN EXTENDED_KEY_USAGE [SAN]
issue() {
  local name=$1 cn=$2 eku=$3 alt=${4:-}
  local ext
  ext=$(mktemp)
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' > "$ext"
  printf 'extendedKeyUsage=%s\n' "$eku" >> "$ext"
  [ -n "$alt" ] && printf 'subjectAltName=%s\n' "$alt" >> "$ext"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -extfile "$ext" \
    -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$ext"
  chmod 0644 "$name.crt"
  chmod 0640 "$name.key"
  echo "make-certs: $out/$name.crt ($eku${alt:+, $alt})"
}

issue server "$first" serverAuth "$san"
[ "$route" = 1 ] && issue route "$first" serverAuth,clientAuth "$san"
for client in "${clients[@]}"; do issue "client-$client" "$client" clientAuth; done
chmod 0644 ca.crt
# nats-server runs as user nats: let its group read the keys when this runs as root for /etc/nats/tls.
if [ "$(id -u)" = 0 ] && getent group nats >/dev/null 2>&1; then
  chgrp nats ca.crt server.* route.* 2>/dev/null || true
fi

#!/usr/bin/env bash
# Builds build/Release/offhook_vpb_shim.so against the Voicetronix driver's vpbapi.h when this box has it (the
# gateway host with vpb-driver installed); without the header there is nothing to do and the addon keeps its dlsym
# lookup of the 1999-2001 VPBAPI.H names. Run by the workspace's install script after node-gyp.
#
# Usage: native/vpb-shim.sh [--include DIR] [--lib DIR] [--out FILE]
#   --include DIR   where vpbapi.h is (default: $VPB_INCLUDE_DIR, else /usr/include, /usr/local/include,
#                   /usr/include/vpb, /usr/local/include/vpb)
#   --lib DIR       where libvpb.so is, if not on the linker's path (also written as the shim's runpath)
#   --out FILE      default build/Release/offhook_vpb_shim.so
#   -h, --help      (relative paths are taken from native/)
# A header whose declarations cannot be called the way offhook calls libvpb fails here, with the compiler naming
# the function: the gateway then uses the dlsym lookup, which reports a mismatch when the line opens.
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")"

include=${VPB_INCLUDE_DIR:-}
lib=${VPB_LIB_DIR:-}
out=build/Release/offhook_vpb_shim.so
usage() { sed -n '2,/^set -euo/p' "$self" | sed -e '$d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --include) include=$2; shift 2 ;;
    --lib) lib=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "vpb-shim: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$include" ]; then
  for dir in /usr/include /usr/local/include /usr/include/vpb /usr/local/include/vpb; do
    if [ -f "$dir/vpbapi.h" ]; then include=$dir; break; fi
  done
fi
rm -f "$out"
if [ -z "$include" ] || [ ! -f "$include/vpbapi.h" ]; then
  echo "vpb-shim: no vpbapi.h (vpb-driver headers not installed): the addon looks libvpb's functions up by name"
  exit 0
fi
mkdir -p "$(dirname "$out")"
flags=(-std=c++17 -O2 -Wall -shared -fPIC -fvisibility=hidden -I "$include" -I src
  "-DOFFHOOK_VPBAPI_H=\"$include/vpbapi.h\"" -o "$out" src/vpb_shim.cc)
[ -n "$lib" ] && flags+=(-L "$lib" "-Wl,-rpath,$lib")
if ! g++ "${flags[@]}" -lvpb 2> "${out%.so}.log"; then
  rm -f "$out"
  echo "vpb-shim: $include/vpbapi.h does not declare libvpb the way offhook calls it (compiler output:" \
    "${out%.so}.log); the addon keeps its dlsym lookup, and opening a vpb line says what is missing" >&2
  sed -n "1,20p" "${out%.so}.log" >&2
  exit 0
fi
echo "vpb-shim: built $out against $include/vpbapi.h"

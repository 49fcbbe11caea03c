#!/usr/bin/env bash
# Creates a private SoftHSM2 set-up under DIR and initialises one token in it, for development and
# tests (never for production keys):
#   DIR/softhsm2.conf   SoftHSM2 configuration (point SOFTHSM2_CONF at it)
#   DIR/tokens/         the token store
#   DIR/user.pin        the token's user PIN (random, mode 0600): give it to keybroker --pin-file
#   DIR/so.pin          the security officer PIN (random, mode 0600)
# Usage: softhsm-setup.sh DIR [LABEL]   (LABEL defaults to sampler)
# Prints the SOFTHSM2_CONF export line on stdout. Needs softhsm2-util (Debian/Ubuntu: apt-get install
# softhsm2). Caveat: softhsm2-util takes the PINs as arguments, so they are briefly visible in the
# process list of this machine; that is why this is for development and tests only.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 DIR [LABEL]" >&2; exit 2
fi
dir=$1
label=${2:-sampler}
if ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "softhsm-setup: softhsm2-util not found (Debian/Ubuntu: apt-get install softhsm2)" >&2; exit 1
fi
umask 077
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf="$dir/softhsm2.conf"
if [ ! -f "$conf" ]; then
  printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
    "$dir" > "$conf"
fi
newpin() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
[ -f "$dir/user.pin" ] || { newpin > "$dir/user.pin"; echo >> "$dir/user.pin"; }
[ -f "$dir/so.pin" ] || { newpin > "$dir/so.pin"; echo >> "$dir/so.pin"; }
if SOFTHSM2_CONF=$conf softhsm2-util --show-slots 2>/dev/null | grep -Eq "^ *Label: +$label *$"; then
  echo "softhsm-setup: a token labelled '$label' exists already in $dir/tokens" >&2
else
  SOFTHSM2_CONF=$conf softhsm2-util --init-token --free --label "$label" \
    --so-pin "$(head -n1 "$dir/so.pin")" --pin "$(head -n1 "$dir/user.pin")" >/dev/null
fi
echo "export SOFTHSM2_CONF=$conf"

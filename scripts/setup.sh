#!/usr/bin/env bash
# Installs what redis-gateway needs on Debian 12, only what is missing. Safe to run repeatedly.
set -euo pipefail

packages=(libmicrohttpd-dev libhiredis-dev libgnutls28-dev libsqlite3-dev redis-server redis-sentinel redis-tools pkg-config openssl curl)
missing=()
for package in "${packages[@]}" "$@"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "setup: add /opt/swift/usr/bin to PATH" >&2
  else
    echo "setup: Swift 6 is required (swift not found on PATH)" >&2
  fi
  exit 1
fi

#!/usr/bin/env bash
# Installs the services the tests start on their own (Debian's redis-server) when missing: as root
# with apt-get, else through passwordless sudo; otherwise fails saying what to install. Never
# starts or touches the system service: the tests run their own servers on ephemeral ports.
set -euo pipefail
command -v redis-server >/dev/null && exit 0
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  echo "npm test needs redis-server (Debian's package): apt-get install redis-server" >&2
  exit 1
fi
echo "npm test: installing redis-server" >&2
# policy-rc.d exit 101 stops Debian's postinst from starting the package's service.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null || { echo "npm test: redis-server still missing after apt-get install" >&2; exit 1; }

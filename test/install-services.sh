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
APT_SUDO="$sudo" "$(dirname "$0")/../.ci/apt-install.sh" redis-server
command -v redis-server >/dev/null || { echo "npm test: redis-server still missing after apt-get install" >&2; exit 1; }

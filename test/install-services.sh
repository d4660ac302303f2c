#!/usr/bin/env bash
# Installs what the tests start on their own when missing (Debian's redis-server, chromium for the
# dashboard's browser test, driven by playwright-core: never a browser download; openssl, with
# which the TLS tests make their CA and certificates; a C compiler, which builds native-bench's
# poisson-load for its test): as root with apt-get, else through passwordless sudo; otherwise
# fails saying what to install. Never starts or touches the system service: the tests run their
# own servers on ephemeral ports.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  echo "npm test needs Debian's packages ${missing[*]}: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "npm test: installing ${missing[*]}" >&2
APT_SUDO="$sudo" "$(dirname "$0")/../.ci/apt-install.sh" "${missing[@]}"
command -v redis-server >/dev/null || { echo "npm test: redis-server still missing after apt-get install" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "npm test: /usr/bin/chromium still missing after apt-get install chromium" >&2; exit 1; }
command -v openssl >/dev/null || { echo "npm test: openssl still missing after apt-get install openssl" >&2; exit 1; }
command -v cc >/dev/null || { echo "npm test: cc still missing after apt-get install gcc libc6-dev" >&2; exit 1; }

#!/usr/bin/env bash
# Installs Debian packages without starting their services: the one way the project's scripts
# (npm test's services, native-bench's tools) install what they need. The command to run apt-get
# through comes in APT_SUDO ("" as root, "sudo" or "sudo -n" otherwise).
set -euo pipefail
sudo="${APT_SUDO-}"
# policy-rc.d exit 101 stops Debian's postinst from starting the packages' services.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null

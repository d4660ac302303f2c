#!/usr/bin/env bash
# Installs the native tools native-bench drives (nginx as upstream and baseline, HAProxy, wrk, a C
# compiler for poisson-load.c) from Debian's packages when they are missing, and the packages named
# as arguments (a tool of the same name: valgrind for instructions.ts). Never starts or touches the
# system services.
set -euo pipefail
missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk >/dev/null || missing+=(wrk)
command -v taskset >/dev/null || missing+=(util-linux)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
for extra in "$@"; do command -v "$extra" >/dev/null || missing+=("$extra"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "native-bench: installing ${missing[*]}" >&2
APT_SUDO="$sudo" "$(dirname "$0")/../.ci/apt-install.sh" "${missing[@]}"

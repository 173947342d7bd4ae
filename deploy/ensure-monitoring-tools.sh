#!/usr/bin/env bash
# Installs what the deploy and monitoring checks run, from Debian's packages, unless already on
# PATH: `prometheus` (prometheus, promtool: qa/monitoring starts a real Prometheus and checks the
# rules) and `docker-compose` (validates docker-compose.yml with `docker-compose config`; no
# Docker engine is needed for that). Run by .ci/run and by the tests when a tool is missing.
# Needs root and apt. On a machine with systemd, Debian's package also starts a prometheus
# service on :9090; the checks never use that one (they start their own on a free port).
set -euo pipefail
need=()
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing ${need[*]}: install Debian's packages as root: apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing Debian's ${need[*]}…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${need[@]}" >/dev/null

#!/usr/bin/env bash
# System programs the service tests need (Debian packages only; nothing downloads a browser or a
# binary). Installed where we can (root with apt-get); elsewhere the tests that need them skip
# with a message naming the package, and under CI=true they fail instead.
#   chromium chromium-driver : the study server's browser test (headless, on loopback)
#   postgresql               : the study server's database test (a server started by the test)
#   slurm-wlm munge          : the single-node SLURM cluster test
set -uo pipefail
PACKAGES="chromium chromium-driver postgresql slurm-wlm munge"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "system packages: all present ($PACKAGES)"; exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system packages: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/tmp/apt-system-packages.log 2>&1 \
    || { echo "system packages: apt-get install failed (see /tmp/apt-system-packages.log)"; tail -5 /tmp/apt-system-packages.log; }
  # the packages' own services must not stay running: each test starts its own on loopback
  for svc in postgresql munge slurmctld slurmd; do service "$svc" stop >/dev/null 2>&1 || true; done
else
  echo "system packages: not root or no apt-get; tests needing$missing will skip (CI=true: fail)"
fi
exit 0

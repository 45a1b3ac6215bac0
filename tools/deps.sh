#!/usr/bin/env bash
# Installs what the tests talk to, once: Debian's promtool, node exporter, Alertmanager and
# redis-server, Kafka's broker jars, helm.
# Idempotent: does nothing when they are already there.
set -euo pipefail

# The Kafka broker's jars for the tests that run a real broker (Maven Central, cached in .cache/).
bash "$(dirname "$0")/kafka.sh" fetch

# helm, to lint and render the chart in deploy/helm: built from its Go module (the Go module proxy
# is reachable, helm's release downloads are not), into .cache/bin.
bin="$(cd "$(dirname "$0")/.." && pwd)/.cache/bin"
if [ ! -x "$bin/helm" ] && ! command -v helm >/dev/null 2>&1 && command -v go >/dev/null 2>&1; then
  echo "tools/deps.sh: building helm from its Go module (once)" >&2
  GOBIN="$bin" go install helm.sh/helm/v3/cmd/helm@v3.16.4 >&2
fi

# The current Prometheus 3 (+ promtool), Alertmanager and VictoriaMetrics, from the Go module proxy,
# through the project's shared script (about 15 minutes on a new machine, then cached outside
# the checkout): the compatibility tests compare against them where behaviour changed since 2.42.
anchors="$(cd "$(dirname "$0")/.." && pwd)/../shared/tools/anchors.sh"
if [ -f "$anchors" ]; then
  if ! bash "$anchors" >/dev/null 2>"${TMPDIR:-/tmp}/pharos-anchors.log"; then
    echo "tools/deps.sh: building the reference systems failed:" >&2
    tail -20 "${TMPDIR:-/tmp}/pharos-anchors.log" >&2
    exit 1
  fi
elif [ -n "${CI:-}" ]; then
  echo "tools/deps.sh: $anchors is missing; CI needs shared/ beside the checkout" >&2
  exit 1
fi

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
# The real Alertmanager (and amtool) that the ruler's notifications are checked against.
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# Shared Alertmanager state for the HA tests (tools/redis.sh starts it).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# Validates docker-compose.yml (`docker-compose config`) where no Docker compose plugin is.
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
# The browser the web UI's Playwright tests drive (playwright-core, headless).
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "tools/deps.sh: missing ${need[*]} and no apt-get to install them" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

# The packages' install scripts would start their daemons (a prometheus on :9090 among them);
# a policy-rc.d that forbids starting services stops that. Ours only if there was none.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { [ "$created_policy" -eq 1 ] && $sudo rm -f /usr/sbin/policy-rc.d; true; }
trap cleanup EXIT

echo "tools/deps.sh: installing ${need[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

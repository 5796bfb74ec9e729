#!/usr/bin/env bash
# Installs the system packages the test suite and the local services need, so `npm test` works
# on a fresh Debian machine with no other step. Idempotent: a package already present is left
# alone, and nothing runs when everything is there.
#   clickhouse-server, clickhouse-client  the real ClickHouse server (server-mode tests)
#   prometheus                            promtool and a real Prometheus (dashboards, alert rules)
#   docker-compose                        validates docker-compose.yml without a Docker engine
#   zookeeper                             the two-node ClickHouse cluster test (scripts/cluster.sh)
#   redis-server                          shared rate limits across daemons (FLOWHOUSE_REDIS_URL)
#   maven, openjdk-17-jre-headless        the Kafka broker, built from Apache Kafka's jars
#   openssl                               test certificates for the TLS/SASL services
#   python3-venv                          venvs for the Python test tools (schemathesis) and the
#                                         schema registry's Java runtime (scripts/lib/registry.sh)
# As root the missing packages are installed with apt-get; otherwise the script names them in
# one line and fails.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have clickhouse-server || need+=(clickhouse-server)
have clickhouse-client || need+=(clickhouse-client)
have promtool || need+=(prometheus)
have docker-compose || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
have redis-server || need+=(redis-server)
have mvn || need+=(maven)
have openssl || need+=(openssl)
have java || need+=(openjdk-17-jre-headless)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "[setup] missing system packages; install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "[setup] installing ${need[*]} (apt-get)" >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

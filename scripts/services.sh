#!/usr/bin/env bash
# Starts and stops the local services flowhouse talks to, idempotently, on 127.0.0.1 only.
#   bash scripts/services.sh up     [kafka|clickhouse|redis|registry|all]   (default all)
#   bash scripts/services.sh down   [kafka|clickhouse|redis|registry|all]
#   bash scripts/services.sh status
#   bash scripts/services.sh up|down kafka-secure   a second broker, SASL_SSL only (scripts/lib/kafka-secure.sh)
#   bash scripts/services.sh up|down clickhouse-secure   a second server, HTTPS with client certificates (scripts/lib/clickhouse-secure.sh)
# Data lives under .services/ (git-ignored). Kafka is Apache Kafka's broker in KRaft mode,
# resolved from Maven Central by services/kafka/pom.xml and cached in .services/kafka/lib.
# The ClickHouse server is Debian's clickhouse-server package, run as the current user.
# Redis (shared rate limits, FLOWHOUSE_REDIS_URL) is Debian's redis-server, without persistence.
# The schema registry (registry-encoded topics) is Apicurio Registry, scripts/lib/registry.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
svc="$root/.services"
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
CH_HTTP_PORT=${CH_HTTP_PORT:-8123}
CH_TCP_PORT=${CH_TCP_PORT:-9000}
REDIS_PORT=${REDIS_PORT:-6390}
mkdir -p "$svc"

log() { echo "[services] $*" >&2; }
# shellcheck source=lib/common.sh
source "$root/scripts/lib/common.sh"
# shellcheck source=lib/test-pki.sh
source "$root/scripts/lib/test-pki.sh"
# shellcheck source=lib/kafka-secure.sh
source "$root/scripts/lib/kafka-secure.sh"
# shellcheck source=lib/clickhouse-secure.sh
source "$root/scripts/lib/clickhouse-secure.sh"
# shellcheck source=lib/registry.sh
source "$root/scripts/lib/registry.sh"

kafka_lib() {
  local lib="$svc/kafka/lib"
  if [ ! -f "$lib/.resolved" ]; then
    log "resolving the Kafka broker jars from Maven Central (first run only)"
    rm -rf "$lib"
    mvn -q -B -f "$root/services/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$lib" -DincludeScope=runtime >&2
    touch "$lib/.resolved"
  fi
  echo "$lib"
}

kafka_up() {
  if port_open "$KAFKA_PORT"; then log "kafka already listening on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  local lib data conf cp
  lib=$(kafka_lib)
  data="$svc/kafka/data"
  conf="$svc/kafka/server.properties"
  mkdir -p "$data"
  cat >"$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
message.max.bytes=16777216
log.retention.check.interval.ms=60000
log.segment.bytes=134217728
PROPS
  cat >"$svc/kafka/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
L4J
  cp="$lib/*"
  local jvm=(-Xms256m -Xmx1g -Dkafka.logs.dir="$svc/kafka" -Dlog4j.configuration="file:$svc/kafka/log4j.properties")
  if [ ! -f "$data/meta.properties" ]; then
    java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format -t flowhouse-local-cluster-0001 -c "$conf" >&2
  fi
  log "starting kafka on 127.0.0.1:$KAFKA_PORT"
  nohup java "${jvm[@]}" -cp "$cp" kafka.Kafka "$conf" >"$svc/kafka/stdout.log" 2>&1 &
  echo $! >"$svc/kafka/pid"
  wait_port "$KAFKA_PORT" 90 kafka || { tail -30 "$svc/kafka/stdout.log" >&2; return 1; }
}

ch_install() {
  if ! command -v clickhouse-server >/dev/null 2>&1; then
    log "installing Debian's clickhouse-server"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >&2
    else
      log "clickhouse-server is not installed and this is not root: apt-get install clickhouse-server"; return 1
    fi
  fi
}

ch_up() {
  if port_open "$CH_HTTP_PORT"; then log "clickhouse already listening on 127.0.0.1:$CH_HTTP_PORT"; return 0; fi
  ch_install
  local dir="$svc/clickhouse"
  ch_users "$dir/users.xml"
  ch_config "$dir" "$CH_HTTP_PORT" "$CH_TCP_PORT" "$dir/users.xml"
  log "starting clickhouse-server on 127.0.0.1:$CH_HTTP_PORT"
  nohup clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  wait_port "$CH_HTTP_PORT" 60 clickhouse || { tail -30 "$dir/log/stdout.log" "$dir/log/error.log" >&2 || true; return 1; }
}

redis_up() {
  if port_open "$REDIS_PORT"; then log "redis already listening on 127.0.0.1:$REDIS_PORT"; return 0; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      log "installing Debian's redis-server"
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
    else
      log "redis-server is not installed and this is not root: apt-get install redis-server"; return 1
    fi
  fi
  local dir="$svc/redis"
  mkdir -p "$dir"
  log "starting redis-server on 127.0.0.1:$REDIS_PORT"
  nohup redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --save '' --appendonly no \
    --protected-mode yes --daemonize no --logfile "$dir/redis.log" >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  wait_port "$REDIS_PORT" 30 redis || { tail -30 "$dir/redis.log" >&2 || true; return 1; }
}

what=${2:-all}
case "${1:-}" in
  up)
    case "$what" in
      kafka) kafka_up ;;
      clickhouse) ch_up ;;
      kafka-secure) kafka_secure_up ;;
      clickhouse-secure) clickhouse_secure_up ;;
      redis) redis_up ;;
      registry) registry_up ;;
      all) kafka_up; ch_up; redis_up; registry_up ;;
      *) echo "unknown service: $what" >&2; exit 2 ;;
    esac ;;
  down)
    case "$what" in
      kafka) stop_pid "$svc/kafka/pid" kafka ;;
      clickhouse) stop_pid "$svc/clickhouse/pid" clickhouse ;;
      kafka-secure) kafka_secure_down ;;
      clickhouse-secure) clickhouse_secure_down ;;
      redis) stop_pid "$svc/redis/pid" redis ;;
      registry) registry_down ;;
      all) stop_pid "$svc/kafka/pid" kafka; stop_pid "$svc/clickhouse/pid" clickhouse; stop_pid "$svc/redis/pid" redis; registry_down ;;
      *) echo "unknown service: $what" >&2; exit 2 ;;
    esac ;;
  status)
    port_open "$KAFKA_PORT" && echo "kafka: up (127.0.0.1:$KAFKA_PORT)" || echo "kafka: down"
    port_open "$CH_HTTP_PORT" && echo "clickhouse: up (127.0.0.1:$CH_HTTP_PORT)" || echo "clickhouse: down"
    port_open "$REDIS_PORT" && echo "redis: up (127.0.0.1:$REDIS_PORT)" || echo "redis: down"
    port_open "$REGISTRY_PORT" && echo "registry: up (127.0.0.1:$REGISTRY_PORT)" || echo "registry: down" ;;
  *) echo "usage: $0 up|down|status [kafka|clickhouse|redis|registry|kafka-secure|clickhouse-secure|all]" >&2; exit 2 ;;
esac

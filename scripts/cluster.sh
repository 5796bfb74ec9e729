#!/usr/bin/env bash
# A local two-node ClickHouse cluster for the materialized-view cluster test: Debian's
# ZooKeeper (package `zookeeper`) and two Debian clickhouse-server (18.16) instances, one shard
# each, named `fh_cluster`, all on 127.0.0.1. Data under .services/cluster (git-ignored).
#   bash scripts/cluster.sh up       start (idempotent); prints nothing on success
#   bash scripts/cluster.sh down     stop what `up` started
#   bash scripts/cluster.sh status
#   bash scripts/cluster.sh check    exit 0 when the packages are installed, 3 when not
# Ports: ZooKeeper 2182; node 1 HTTP 8131 / TCP 9031 / interserver 9041;
#        node 2 HTTP 8132 / TCP 9032 / interserver 9042. Override with FH_CLUSTER_BASE_* below.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.services/cluster"
ZK_PORT=${FH_CLUSTER_ZK_PORT:-2182}
HTTP_BASE=${FH_CLUSTER_HTTP_BASE:-8130}
TCP_BASE=${FH_CLUSTER_TCP_BASE:-9030}
INTER_BASE=${FH_CLUSTER_INTERSERVER_BASE:-9040}
CLUSTER=${FH_CLUSTER_NAME:-fh_cluster}

log() { echo "[cluster] $*" >&2; }
# shellcheck source=lib/common.sh
source "$root/scripts/lib/common.sh"

have_packages() { command -v clickhouse-server >/dev/null 2>&1 && command -v clickhouse-client >/dev/null 2>&1 && [ -f /usr/share/java/zookeeper.jar ]; }

zk_classpath() {
  # Debian's zookeeper.jar names its dependencies in its manifest Class-Path; add the conf dir for log4j.
  echo "$dir/zk:/usr/share/java/zookeeper.jar"
}

zk_up() {
  if port_open "$ZK_PORT"; then return 0; fi
  mkdir -p "$dir/zk/data"
  cat >"$dir/zk/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/zk/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,stat,srvr
CFG
  cat >"$dir/zk/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${zookeeper.log.dir}/zookeeper.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
L4J
  log "starting zookeeper on 127.0.0.1:$ZK_PORT"
  nohup java -Xmx256m -Dzookeeper.log.dir="$dir/zk" -Dlog4j.configuration="file:$dir/zk/log4j.properties" \
    -cp "$(zk_classpath)" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zk/zoo.cfg" >"$dir/zk/stdout.log" 2>&1 &
  echo $! >"$dir/zk/pid"
  wait_port "$ZK_PORT" 60 zookeeper || { tail -30 "$dir/zk/stdout.log" >&2; return 1; }
  zk_ready || { tail -30 "$dir/zk/stdout.log" >&2; return 1; }
}

zk_ready() { # ZooKeeper's `stat` reports its mode once it serves sessions (an 18.16 server that finds no ZooKeeper at start crashes in its DDL worker)
  local i reply
  for ((i = 0; i < 240; i++)); do
    reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && printf stat >&3 && timeout 2 cat <&3) 2>/dev/null || true)
    case "$reply" in *"Mode: standalone"*) return 0 ;; esac
    sleep 0.25
  done
  log "zookeeper on 127.0.0.1:$ZK_PORT is not serving"
  return 1
}

node_alive() { local f="$dir/node$1/pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

node_ready() { # n: the node answers, reads ZooKeeper and is still running 2 s later; restarted (twice at most) when it died
  local attempt i tcp=$((TCP_BASE + $1))
  for attempt in 1 2 3; do
    for ((i = 0; i < 120; i++)); do
      node_alive "$1" || break
      if clickhouse-client --host 127.0.0.1 --port "$tcp" -q "SELECT count() FROM system.zookeeper WHERE path = '/'" >/dev/null 2>&1; then
        sleep 2
        node_alive "$1" && return 0
        break
      fi
      sleep 0.25
    done
    log "clickhouse node $1 is not ready (attempt $attempt); restarting it"
    stop_pid "$dir/node$1/pid" "clickhouse node $1"
    node_up "$1"
  done
  log "clickhouse node $1 cannot reach zookeeper"
  return 1
}

node_up() { # n
  local n=$1 http=$((HTTP_BASE + $1)) tcp=$((TCP_BASE + $1)) inter=$((INTER_BASE + $1))
  if port_open "$http"; then return 0; fi
  local d="$dir/node$n"
  ch_config "$d" "$http" "$tcp" "$dir/users.xml" "  <interserver_http_port>$inter</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <remote_servers>
    <$CLUSTER>
      <shard><replica><host>127.0.0.1</host><port>$((TCP_BASE + 1))</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$((TCP_BASE + 2))</port></replica></shard>
    </$CLUSTER>
  </remote_servers>
  <zookeeper><node><host>127.0.0.1</host><port>$ZK_PORT</port></node><session_timeout_ms>30000</session_timeout_ms></zookeeper>
  <distributed_ddl><path>/clickhouse/$CLUSTER/task_queue/ddl</path></distributed_ddl>
  <macros><shard>$n</shard><replica>node$n</replica></macros>"
  log "starting clickhouse node $n on 127.0.0.1:$http (tcp $tcp)"
  nohup clickhouse-server --config-file="$d/config.xml" >"$d/log/stdout.log" 2>&1 &
  echo $! >"$d/pid"
  wait_port "$http" 60 "clickhouse node $n" || { tail -30 "$d/log/stdout.log" "$d/log/error.log" >&2 || true; return 1; }
}

case "${1:-}" in
  check) have_packages || exit 3 ;;
  up)
    if ! have_packages; then log "missing packages: apt-get install clickhouse-server clickhouse-client zookeeper"; exit 3; fi
    ch_users "$dir/users.xml"
    zk_up
    node_up 1
    node_up 2
    node_ready 1
    node_ready 2 ;;
  down)
    stop_pid "$dir/node2/pid" "clickhouse node 2"
    stop_pid "$dir/node1/pid" "clickhouse node 1"
    stop_pid "$dir/zk/pid" zookeeper ;;
  status)
    port_open "$ZK_PORT" && echo "zookeeper: up (127.0.0.1:$ZK_PORT)" || echo "zookeeper: down"
    for n in 1 2; do port_open $((HTTP_BASE + n)) && echo "node $n: up (127.0.0.1:$((HTTP_BASE + n)))" || echo "node $n: down"; done ;;
  *) echo "usage: $0 up|down|status|check" >&2; exit 2 ;;
esac

# A second local Kafka broker whose only client listener is SASL_SSL, for the transport-security
# tests (sourced by scripts/services.sh: `services.sh up|down kafka-secure`; not part of `all`).
#   SASL_SSL 127.0.0.1:$KAFKA_SECURE_PORT (default 9192), controller 127.0.0.1:$KAFKA_SECURE_CONTROLLER_PORT (9193)
#   mechanisms PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; client certificates required (listener.name.sasl_ssl.ssl.client.auth)
# Everything lives in .services/kafka-secure (git-ignored):
#   tls/ca.pem                       the test CA (scripts/lib/test-pki.sh), trusted by the broker and by clients
#   tls/client.pem, tls/client.key   a client certificate signed by that CA
#   tls/broker.p12, tls/truststore.p12   the broker's keystore (openssl) and truststore (keytool)
#   credentials.env                  random passwords of the users `plain-user` (PLAIN),
#                                    `scram-user` (SCRAM-SHA-256 and SCRAM-SHA-512), as shell variables
# SCRAM users are written by the broker's own `kafka-storage format --add-scram` when the data
# folder is first formatted; delete .services/kafka-secure to start over. Callers define log(),
# port_open, wait_port, stop_pid (lib/common.sh), test_pki (lib/test-pki.sh) and kafka_lib.

KAFKA_SECURE_PORT=${KAFKA_SECURE_PORT:-9192}
KAFKA_SECURE_CONTROLLER_PORT=${KAFKA_SECURE_CONTROLLER_PORT:-9193}

kafka_secure_tls() { # dir store-password: the test PKI plus the broker's PKCS12 keystore and truststore
  local t=$1/tls store_pw=$2
  [ -f "$t/truststore.p12" ] && return 0
  test_pki "$t"
  openssl pkcs12 -export -in "$t/server.pem" -inkey "$t/server.key" -certfile "$t/ca.pem" -name broker \
    -out "$t/broker.p12" -passout "pass:$store_pw"
  keytool -importcert -noprompt -alias ca -file "$t/ca.pem" -keystore "$t/truststore.p12" \
    -storetype PKCS12 -storepass "$store_pw" >/dev/null 2>&1
}

kafka_secure_up() {
  if port_open "$KAFKA_SECURE_PORT"; then log "kafka-secure already listening on 127.0.0.1:$KAFKA_SECURE_PORT"; return 0; fi
  local lib dir="$svc/kafka-secure" data conf
  lib=$(kafka_lib)
  data="$dir/data"; conf="$dir/server.properties"
  mkdir -p "$dir"
  if [ ! -f "$dir/credentials.env" ]; then
    rm -rf "$data" "$dir/tls"
    umask 077
    cat >"$dir/credentials.env" <<CRED
KAFKA_SECURE_BROKERS=127.0.0.1:$KAFKA_SECURE_PORT
KAFKA_SECURE_STORE_PASSWORD=$(openssl rand -hex 16)
KAFKA_SECURE_ADMIN_PASSWORD=$(openssl rand -hex 16)
KAFKA_SECURE_PLAIN_USER=plain-user
KAFKA_SECURE_PLAIN_PASSWORD=$(openssl rand -hex 16)
KAFKA_SECURE_SCRAM_USER=scram-user
KAFKA_SECURE_SCRAM_PASSWORD=$(openssl rand -hex 16)
CRED
    umask 022
  fi
  # shellcheck disable=SC1091
  source "$dir/credentials.env"
  kafka_secure_tls "$dir" "$KAFKA_SECURE_STORE_PASSWORD"
  mkdir -p "$data"
  cat >"$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_SECURE_CONTROLLER_PORT
listeners=SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT,CONTROLLER://127.0.0.1:$KAFKA_SECURE_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$KAFKA_SECURE_ADMIN_PASSWORD" user_admin="$KAFKA_SECURE_ADMIN_PASSWORD" user_$KAFKA_SECURE_PLAIN_USER="$KAFKA_SECURE_PLAIN_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/tls/broker.p12
ssl.keystore.password=$KAFKA_SECURE_STORE_PASSWORD
ssl.key.password=$KAFKA_SECURE_STORE_PASSWORD
ssl.truststore.type=PKCS12
ssl.truststore.location=$dir/tls/truststore.p12
ssl.truststore.password=$KAFKA_SECURE_STORE_PASSWORD
# On a SASL_SSL listener only the listener-prefixed form is applied (KIP-684).
listener.name.sasl_ssl.ssl.client.auth=required
log.dirs=$data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=2
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
message.max.bytes=16777216
PROPS
  chmod 600 "$conf"
  cat >"$dir/log4j.properties" <<L4J
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
L4J
  local jvm=(-Xms128m -Xmx512m -Dkafka.logs.dir="$dir" -Dlog4j.configuration="file:$dir/log4j.properties")
  if [ ! -f "$data/meta.properties" ]; then
    java "${jvm[@]}" -cp "$lib/*" kafka.tools.StorageTool format -t flowhouse-secure-cluster-01 -c "$conf" \
      --add-scram "SCRAM-SHA-256=[name=$KAFKA_SECURE_SCRAM_USER,password=$KAFKA_SECURE_SCRAM_PASSWORD]" \
      --add-scram "SCRAM-SHA-512=[name=$KAFKA_SECURE_SCRAM_USER,password=$KAFKA_SECURE_SCRAM_PASSWORD]" >&2
  fi
  log "starting kafka-secure (SASL_SSL) on 127.0.0.1:$KAFKA_SECURE_PORT"
  nohup java "${jvm[@]}" -cp "$lib/*" kafka.Kafka "$conf" >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  wait_port "$KAFKA_SECURE_PORT" 90 kafka-secure || { tail -30 "$dir/stdout.log" >&2; return 1; }
}

kafka_secure_down() { stop_pid "$svc/kafka-secure/pid" kafka-secure; }

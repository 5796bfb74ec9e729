# A second Debian clickhouse-server (18.16) for the transport-security tests (sourced by
# scripts/services.sh: `services.sh up|down clickhouse-secure`; not part of `all`):
#   HTTPS 127.0.0.1:$CH_SECURE_HTTPS_PORT (default 8444), client certificates required
#   (openSSL verificationMode strict, CA = the test CA); plain HTTP $CH_SECURE_HTTP_PORT (8126)
#   and TCP $CH_SECURE_TCP_PORT (9016) on 127.0.0.1 for the server's own use.
#   One user, `flowhouse`, with a random password; no passwordless user.
# Everything lives in .services/clickhouse-secure (git-ignored): tls/ (scripts/lib/test-pki.sh),
# credentials.env (CH_SECURE_URL, CH_SECURE_USER, CH_SECURE_PASSWORD), data and logs.
# Callers define log(), port_open, wait_port, stop_pid, ch_install, ch_config and test_pki.

CH_SECURE_HTTPS_PORT=${CH_SECURE_HTTPS_PORT:-8444}
CH_SECURE_HTTP_PORT=${CH_SECURE_HTTP_PORT:-8126}
CH_SECURE_TCP_PORT=${CH_SECURE_TCP_PORT:-9016}

clickhouse_secure_up() {
  if port_open "$CH_SECURE_HTTPS_PORT"; then log "clickhouse-secure already listening on 127.0.0.1:$CH_SECURE_HTTPS_PORT"; return 0; fi
  ch_install
  local dir="$svc/clickhouse-secure"
  mkdir -p "$dir"
  if [ ! -f "$dir/credentials.env" ]; then
    umask 077
    cat >"$dir/credentials.env" <<CRED
CH_SECURE_URL=https://127.0.0.1:$CH_SECURE_HTTPS_PORT
CH_SECURE_USER=flowhouse
CH_SECURE_PASSWORD=$(openssl rand -hex 16)
CRED
    umask 022
  fi
  # shellcheck disable=SC1091
  source "$dir/credentials.env"
  test_pki "$dir/tls"
  umask 077
  cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default><readonly><readonly>1</readonly></readonly></profiles>
  <users>
    <$CH_SECURE_USER>
      <password>$CH_SECURE_PASSWORD</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </$CH_SECURE_USER>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  umask 022
  ch_config "$dir" "$CH_SECURE_HTTP_PORT" "$CH_SECURE_TCP_PORT" "$dir/users.xml" "  <https_port>$CH_SECURE_HTTPS_PORT</https_port>
  <openSSL>
    <server>
      <certificateFile>$dir/tls/server.pem</certificateFile>
      <privateKeyFile>$dir/tls/server.key</privateKeyFile>
      <caConfig>$dir/tls/ca.pem</caConfig>
      <verificationMode>strict</verificationMode>
      <loadDefaultCAFile>false</loadDefaultCAFile>
      <cacheSessions>true</cacheSessions>
      <disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>
      <preferServerCiphers>true</preferServerCiphers>
    </server>
  </openSSL>"
  log "starting clickhouse-secure (HTTPS, client certificates required) on 127.0.0.1:$CH_SECURE_HTTPS_PORT"
  nohup clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  wait_port "$CH_SECURE_HTTPS_PORT" 60 clickhouse-secure || { tail -30 "$dir/log/stdout.log" "$dir/log/error.log" >&2 || true; return 1; }
}

clickhouse_secure_down() { stop_pid "$svc/clickhouse-secure/pid" clickhouse-secure; }

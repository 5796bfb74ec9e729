# A throw-away PKI for the transport-security tests (sourced, not run): a CA and two
# certificates it signs, `server` and `client`, valid for 127.0.0.1 and localhost, made with openssl.
#   test_pki DIR    writes DIR/ca.pem ca.key server.pem server.key client.pem client.key once
#                   (DIR/.done marks it complete; delete DIR to make new ones)
test_pki() {
  local t=$1 name
  [ -f "$t/.done" ] && return 0
  rm -rf "$t"; mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=flowhouse test CA" \
    -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
  for name in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=flowhouse-$name" -keyout "$t/$name.key" -out "$t/$name.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$t/$name.ext"
    openssl x509 -req -in "$t/$name.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 3650 \
      -extfile "$t/$name.ext" -out "$t/$name.pem" 2>/dev/null
  done
  chmod 600 "$t"/*.key
  touch "$t/.done"
}

# Sourced by .ci/run: a throwaway PostgreSQL cluster for the tests (issue 16).
# pg_start installs PostgreSQL from Debian's packages when it is missing, starts a cluster in
# a temp dir listening on 127.0.0.1 only, and exports KOTAE_TEST_POSTGRES; pg_stop stops it
# and removes the dir. initdb refuses root, so as root both run as the `postgres` user.
# The cluster also speaks TLS (ssl=on) with a certificate for localhost (not 127.0.0.1) signed
# by a CA made here with the openssl CLI (Debian's `openssl` when missing): its PEM file is
# exported as KOTAE_TEST_POSTGRES_CA, and a second CA that signed nothing as
# KOTAE_TEST_POSTGRES_OTHER_CA, for the tests of sslmode=verify-ca/verify-full.
# The role kotae_cert may log in only over TLS with a client certificate (pg_hba `cert`:
# its CN is the role); one signed by the same CA is exported as
# KOTAE_TEST_POSTGRES_CLIENT_CERT and _KEY, for the tests of sslcert/sslkey.

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

pg_start() {
  local bin
  if ! bin=$(pg_bin); then
    echo "== installing PostgreSQL (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bin=$(pg_bin) || { echo "PostgreSQL did not install" >&2; return 1; }
  fi
  PG_DIR=$(mktemp -d /tmp/kotae-pg.XXXXXX)
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  PG_AS=("${as[@]}")
  PG_CTL="$bin/pg_ctl"
  # A free port, so a server already running here (a developer's) is no obstacle.
  PG_PORT=${PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U kotae --auth=trust -E UTF8 >/dev/null
  pg_make_certs || return 1
  # kotae_cert: a client certificate or nothing (the first matching line wins).
  local hba="$PG_DIR/data/pg_hba.conf"
  { printf 'hostssl all kotae_cert 127.0.0.1/32 cert\nhost all kotae_cert 127.0.0.1/32 reject\n'; cat "$hba"; } > "$hba.new"
  mv "$hba.new" "$hba"
  if [ "${#as[@]}" -gt 0 ]; then chown postgres "$hba"; fi
  "${as[@]}" "$PG_CTL" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=300 -c fsync=off -c ssl=on -c ssl_cert_file=$PG_DIR/tls/server.crt -c ssl_key_file=$PG_DIR/tls/server.key -c ssl_ca_file=$PG_DIR/tls/ca.crt" \
    start >/dev/null
  "${as[@]}" "$bin/psql" -q -h "$PG_DIR" -p "$PG_PORT" -U kotae -d postgres \
    -c "CREATE ROLE kotae_cert LOGIN SUPERUSER" >/dev/null
  export KOTAE_TEST_POSTGRES="postgres://kotae@127.0.0.1:$PG_PORT/postgres"
  export KOTAE_TEST_POSTGRES_CA="$PG_DIR/tls/ca.crt"
  export KOTAE_TEST_POSTGRES_OTHER_CA="$PG_DIR/tls/other-ca.crt"
  export KOTAE_TEST_POSTGRES_CLIENT_CERT="$PG_DIR/tls/client.crt"
  export KOTAE_TEST_POSTGRES_CLIENT_KEY="$PG_DIR/tls/client.key"
  echo "PostgreSQL started for the tests: $KOTAE_TEST_POSTGRES (TLS: CA $KOTAE_TEST_POSTGRES_CA)"
}

# A CA, a server certificate it signs (for the name localhost only, so that verify-full to
# 127.0.0.1 fails on the name), and a second CA, in $PG_DIR/tls;
# the server's key readable by the server's user only, as PostgreSQL insists.
pg_make_certs() {
  if ! command -v openssl >/dev/null 2>&1; then
    echo "== installing openssl (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends openssl >/dev/null
    command -v openssl >/dev/null 2>&1 || { echo "openssl did not install" >&2; return 1; }
  fi
  local t="$PG_DIR/tls"
  mkdir -p "$t"
  (
    set -e
    cd "$t"
    for ca in ca other-ca; do
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=kotae test $ca" -keyout "$ca.key" -out "$ca.crt" 2>/dev/null
    done
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.crt 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=kotae_cert" -keyout client.key -out client.csr 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -extfile client.ext -out client.crt 2>/dev/null
    chmod 600 server.key
    chmod 644 ca.crt other-ca.crt server.crt client.crt client.key
  ) || { echo "could not make the test certificates" >&2; return 1; }
  if [ "${#PG_AS[@]}" -gt 0 ]; then chown -R postgres "$t"; fi
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    "${PG_AS[@]}" "$PG_CTL" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

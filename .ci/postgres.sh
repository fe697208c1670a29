# Sourced by .ci/run: a throwaway PostgreSQL cluster for the tests (issue 16).
# pg_start installs PostgreSQL from Debian's packages when it is missing, starts a cluster in
# a temp dir listening on 127.0.0.1 only, and exports KOTAE_TEST_POSTGRES; pg_stop stops it
# and removes the dir. initdb refuses root, so as root both run as the `postgres` user.

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
  "${as[@]}" "$PG_CTL" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=300 -c fsync=off" \
    start >/dev/null
  export KOTAE_TEST_POSTGRES="postgres://kotae@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL started for the tests: $KOTAE_TEST_POSTGRES"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    "${PG_AS[@]}" "$PG_CTL" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

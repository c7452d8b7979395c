# Make sure PostgreSQL and Redis answer on 127.0.0.1; start or install them if not.
# Sourced by scripts/test. Creates the role `ticketline` (password `ticketline`,
# may create databases) that the test suite connects as.

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

postgres_ensure() {
    if ! command -v pg_isready >/dev/null 2>&1 || ! command -v pg_lsclusters >/dev/null 2>&1; then
        apt_ensure postgresql
    fi
    if ! pg_ready; then
        echo "==> starting PostgreSQL"
        local version
        version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
        if [ -z "$version" ]; then
            apt_ensure postgresql
            version="$(ls /etc/postgresql | sort -V | tail -n 1)"
        fi
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
    fi
    pg_ready || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
    as_root runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL' >/dev/null
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ticketline') THEN
    CREATE ROLE ticketline LOGIN PASSWORD 'ticketline' CREATEDB;
  END IF;
END $$;
SQL
}

redis_ensure() {
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
    command -v redis-server >/dev/null 2>&1 || apt_ensure redis-server
    echo "==> starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ticketline-test.log
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
}

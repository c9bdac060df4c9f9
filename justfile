# Everyday commands. `cargo install just` if you do not have it; each recipe is plain cargo.

pg_url := env_var_or_default("TESSERA_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

# Build every crate (debug).
build:
    cargo build --workspace

# Run the server with the embedded SQLite default (./tessera-data).
run:
    cargo run -p tessera-server -- serve

# The whole test suite on SQLite (what the README and CI run).
test:
    cargo test --workspace

# The whole test suite again, each test on a fresh PostgreSQL database.
test-postgres:
    TESSERA_TEST_DATABASE_URL={{pg_url}} cargo test --workspace

# Formatting and clippy, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Schema-driven fuzzing, as CI runs it: schemathesis against a fresh debug server (docs/fuzzing.md).
# Extra arguments go to `st run`, e.g. `just fuzz --include-operation-id keyrock_create_user`.
fuzz *args:
    bash .ci/schemathesis {{args}}

# Release build, a fresh server on SQLite (or `backend=postgres`: a fresh database on the
# PostgreSQL server of TESSERA_TEST_DATABASE_URL), and real concurrent HTTP load (see
# docs/benchmarks.md). E.g. `just bench 64 10 oauth postgres`.
bench concurrency="16" duration="10" scenario="all" backend="sqlite":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release -p tessera-server -p tessera-tests --bin tessera --bin tessera-bench
    dir=$(mktemp -d)
    password=bench-$(date +%s)
    url="sqlite://$dir/tessera.db"
    pgdb=""
    if [ "{{backend}}" = postgres ]; then
      pgdb=tessera_bench_$RANDOM$RANDOM
      psql "{{pg_url}}" -qc "CREATE DATABASE $pgdb"
      url="{{pg_url}}"; url="${url%/*}/$pgdb"
    fi
    TESSERA_DATABASE_URL="$url" TESSERA_BIND=127.0.0.1:3901 \
      TESSERA_ADMIN_PASSWORD="$password" TESSERA_LOG=warn \
      ./target/release/tessera serve 2>"$dir/server.log" &
    server=$!
    trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"; [ -z "$pgdb" ] || psql "{{pg_url}}" -qc "DROP DATABASE $pgdb"' EXIT
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:3901/health >/dev/null && break; sleep 0.1; done
    ./target/release/tessera-bench --base-url http://127.0.0.1:3901 --password "$password" \
      --concurrency {{concurrency}} --duration {{duration}} --scenario {{scenario}} --markdown

# Before/after in one run: the release server of git revision `rev` (built in a temporary
# worktree) and of the working tree, alternated `rounds` times under the same load client.
bench-compare rev rounds="2" concurrency="16" duration="10":
    #!/usr/bin/env bash
    set -euo pipefail
    old=$(mktemp -d)
    git worktree add -q --detach "$old/src" {{rev}}
    trap 'git worktree remove --force "$old/src"; rm -rf "$old"' EXIT
    (cd "$old/src" && cargo build --release -q -p tessera-server --bin tessera)
    cargo build --release -q -p tessera-server -p tessera-tests --bin tessera --bin tessera-bench
    run() {
      local bin=$1 label=$2 dir password
      dir=$(mktemp -d); password=bench-$RANDOM$RANDOM
      TESSERA_DATABASE_URL="sqlite://$dir/tessera.db" TESSERA_BIND=127.0.0.1:3901 \
        TESSERA_ADMIN_PASSWORD="$password" TESSERA_LOG=warn "$bin" serve 2>"$dir/server.log" &
      local server=$!
      for _ in $(seq 1 100); do curl -sf http://127.0.0.1:3901/health >/dev/null && break; sleep 0.1; done
      ./target/release/tessera-bench --base-url http://127.0.0.1:3901 --password "$password" \
        --concurrency {{concurrency}} --duration {{duration}} --markdown | grep '^| [a-z]' | grep -v '^| scenario' | sed "s/^/| $label /"
      kill $server; wait $server 2>/dev/null || true; rm -rf "$dir"
    }
    echo "| build | scenario | concurrency | duration | req/s | p50 ms | p99 ms | errors |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    for round in $(seq 1 {{rounds}}); do
      run "$old/src/target/release/tessera" "before"
      run ./target/release/tessera "after"
    done

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
    # The Hexoskin request e-mails (one .eml each) go to the temporary directory, not the repo.
    TESSERA_DATABASE_URL="$url" TESSERA_BIND=127.0.0.1:3901 TESSERA_OUTBOX_DIR="$dir/outbox" \
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
        TESSERA_OUTBOX_DIR="$dir/outbox" \
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

# `tessera import keyrock` throughput and memory (docs/benchmarks.md): a release build, one
# synthetic Keyrock dump (keyrock-dump-gen; `scale` multiplies the issue's 100,000 users,
# 1,000 applications, 10,000 role assignments and 1,000,000 access tokens), imported into a
# fresh SQLite file and a fresh database on the PostgreSQL server of TESSERA_TEST_DATABASE_URL,
# `runs` times each, under GNU time; `keep=1` keeps the dump and the logs. Arguments are
# key=value, e.g. `just bench-import scale=0.1`, `just bench-import runs=3 backends=postgres`.
bench-import *args:
    #!/usr/bin/env bash
    set -euo pipefail
    scale=1 runs=1 backends=sqlite,postgres keep=0
    for arg in {{args}}; do
      case "$arg" in
        scale=*|runs=*|backends=*|keep=*) declare "$arg" ;;
        *) echo "bench-import: unknown argument $arg (scale=F runs=N backends=sqlite,postgres keep=1)" >&2; exit 2 ;;
      esac
    done
    cargo build --release -p tessera-server -p tessera-tests --bin tessera --bin keyrock-dump-gen
    dir=$(mktemp -d)
    pgdb=""
    cleanup() {
      [ -z "$pgdb" ] || psql "{{pg_url}}" -qc "DROP DATABASE IF EXISTS $pgdb"
      if [ "$keep" = 1 ]; then echo "kept: $dir" >&2; else rm -rf "$dir"; fi
    }
    trap cleanup EXIT
    n() { awk -v s="$scale" -v n="$1" 'BEGIN { v = int(n * s + 0.5); print (v < 1 ? 1 : v) }'; }
    ./target/release/keyrock-dump-gen --users "$(n 100000)" --applications "$(n 1000)" \
      --role-assignments "$(n 10000)" --access-tokens "$(n 1000000)" --out "$dir/keyrock.sql" 2>"$dir/gen.log"
    echo "dump: $(awk '{ printf "%.1f MB", $1 / 1e6 }' <<<"$(stat -c %s "$dir/keyrock.sql")"), $(sed 's/^keyrock-dump-gen: wrote //; s/, [0-9]* bytes in [^:]*:/:/' "$dir/gen.log")"
    echo
    echo "| backend | run | rows imported | seconds | rows/s | peak RSS MB |"
    echo "|---|---:|---:|---:|---:|---:|"
    for backend in ${backends//,/ }; do
      : >"$dir/results-$backend"
      for run in $(seq 1 "$runs"); do
        case "$backend" in
          sqlite) url="sqlite://$dir/import-$run.db" ;;
          postgres)
            pgdb=tessera_import_$RANDOM$RANDOM
            psql "{{pg_url}}" -qc "CREATE DATABASE $pgdb"
            url="{{pg_url}}"; url="${url%/*}/$pgdb" ;;
          *) echo "bench-import: unknown backend $backend" >&2; exit 2 ;;
        esac
        log="$dir/import-$backend-$run.log"
        if ! TESSERA_DATABASE_URL="$url" /usr/bin/time -v -o "$dir/time-$backend-$run" \
            ./target/release/tessera import keyrock --dump "$dir/keyrock.sql" 2>"$log"; then
          echo "bench-import: the import into $backend failed:" >&2; tail -n 5 "$log" >&2; exit 1
        fi
        # The summary is the last stderr line: "...: imported user=N organization=N ...; skipped ..."
        rows=$(tail -n 1 "$log" | sed -n 's/^.*: imported \([^;]*\);.*$/\1/p' | tr ' ' '\n' | awk -F= '{ s += $2 } END { print s + 0 }')
        if [ "$rows" -eq 0 ]; then
          echo "bench-import: no summary line from the import into $backend:" >&2; tail -n 2 "$log" >&2; exit 1
        fi
        secs=$(sed -n 's/^\tElapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time-$backend-$run" \
          | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
        rss=$(sed -n 's/^\tMaximum resident set size (kbytes): //p' "$dir/time-$backend-$run")
        echo "$rows $secs $rss" >>"$dir/results-$backend"
        awk -v b="$backend" -v r="$run" -v n="$rows" -v s="$secs" -v m="$rss" \
          'BEGIN { printf "| %s | %s | %d | %.2f | %.0f | %.1f |\n", b, r, n, s, n / s, m / 1024 }'
        case "$backend" in
          sqlite) rm -f "$dir/import-$run.db"* ;;
          postgres) psql "{{pg_url}}" -qc "DROP DATABASE $pgdb"; pgdb="" ;;
        esac
      done
      if [ "$runs" -gt 1 ]; then
        # Medians of seconds and of peak RSS, each over the runs.
        sort -n -k2 "$dir/results-$backend" | awk -v b="$backend" '{ n[NR] = $1; s[NR] = $2 }
          END { m = int((NR + 1) / 2); printf "| %s | median | %d | %.2f | %.0f |", b, n[m], s[m], n[m] / s[m] }'
        sort -n -k3 "$dir/results-$backend" | awk '{ r[NR] = $3 } END { printf " %.1f |\n", r[int((NR + 1) / 2)] / 1024 }'
      fi
    done

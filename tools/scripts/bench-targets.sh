#!/usr/bin/env bash
# Measures Howl's speed and memory targets (issue 6) the way BENCHMARKS.md reports them:
# release builds, `howl` pinned to CPU 0 with the quote distributor off, howl-bench pinned to
# CPU 1, 128-byte payloads, heartbeats on (the bench pings every 5 s, the server's timeout is
# 15 s). Both run at nice -10 when allowed, so compile jobs of others on the shared machine
# disturb them less. Every run is bounded (--duration, --hold, --max-messages).
#
#   tools/scripts/bench-targets.sh [RUNS] [TARGET...]
#   TARGET: memory memory-rb4096 steady10k steady1k sat32 sat8 scale19k
#           fairness fairness5k
#           cluster-steady10k cluster-sat32 (need redis-server)      (default: all)
#
# fairness (issue 12): a 50,000 deliveries/s fan-out (1,000 subscribers × 50 msg/s; fairness5k:
# 5,000 × 10 msg/s) with the probe on: 4 of the subscribers also send a `ping` every 100 ms and
# `unsubscribe` + `subscribe` of a quiet channel every second, and the report gives each
# request → reply latency beside the server's and the bench's own CPU.
#
# Results: target/bench-results/<target>-<run>.json (+ .svg plot, + .server.log), or under
# $BENCH_OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(memory memory-rb4096 steady10k steady1k sat32 sat8 scale19k
    fairness fairness5k cluster-steady10k cluster-sat32)

cargo build --release -p howl-server -p howl-tools
out=${BENCH_OUT:-target/bench-results}
mkdir -p "$out"
nice_level=-10
nice -n $nice_level true 2>/dev/null || nice_level=0
port=18900
# The benchmark is the one client here, so the abuse limits must not shape the figures: every
# subscriber comes from a loopback address, and the publisher sends far above the default
# per-client rates.
limits_off=(--max-connections 19900 --max-connections-per-ip 100000 --client-rate 1e9
    --client-burst 1000000000 --publish-rate 1e9 --publish-burst 1000000000)

# run NAME SERVER_FLAGS... -- BENCH_FLAGS...
run() {
    local name=$1
    shift
    local server_flags=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do server_flags+=("$1"); shift; done
    shift
    port=$((port + 1))
    nice -n $nice_level taskset -c 0 target/release/howl --listen "127.0.0.1:$port" \
        --quote-interval 0 "${limits_off[@]}" "${server_flags[@]}" >"$out/$name.server.log" 2>&1 &
    local server=$!
    for _ in $(seq 1 100); do
        (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    echo "== $name (load $(cut -d' ' -f1 /proc/loadavg))"
    nice -n $nice_level taskset -c 1 target/release/howl-bench --url "ws://127.0.0.1:$port/ws" \
        --server-pid "$server" --quiet --out "$out/$name.json" "$@" || true
    kill -TERM "$server"
    wait "$server" || true
}

# cluster NAME BENCH_FLAGS...: Redis and the bench on CPU 1, two nodes on CPU 0, subscribers
# split over both nodes, the publisher on node 1.
cluster() {
    local name=$1
    shift
    local redis_port=$((port + 1)) p1=$((port + 2)) p2=$((port + 3))
    port=$((port + 3))
    nice -n $nice_level taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 \
        --save '' --appendonly no >"$out/$name.redis.log" 2>&1 &
    local redis=$!
    local nodes=()
    for p in "$p1" "$p2"; do
        nice -n $nice_level taskset -c 0 target/release/howl --listen "127.0.0.1:$p" \
            --quote-interval 0 "${limits_off[@]}" --redis-url "redis://127.0.0.1:$redis_port" --node-id "node-$p" \
            >"$out/$name.node-$p.log" 2>&1 &
        nodes+=($!)
    done
    for p in "$p1" "$p2"; do
        for _ in $(seq 1 100); do
            (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
            sleep 0.1
        done
    done
    echo "== $name (load $(cut -d' ' -f1 /proc/loadavg))"
    nice -n $nice_level taskset -c 1 target/release/howl-bench \
        --url "ws://127.0.0.1:$p1/ws" --url "ws://127.0.0.1:$p2/ws" \
        --publish-url "ws://127.0.0.1:$p1/ws" \
        --server-pid "${nodes[0]}" --server-pid "${nodes[1]}" \
        --quiet --out "$out/$name.json" "$@" || true
    kill -TERM "${nodes[@]}"
    wait "${nodes[@]}" || true
    kill "$redis"
    wait "$redis" || true
}

for target in "${targets[@]}"; do
    for i in $(seq 1 "$runs"); do
        case $target in
            memory) run "$target-$i" -- -n 10000 --rate 1 --duration 2 --settle 3 ;;
            memory-rb4096) run "$target-$i" --read-buffer-size 4096 -- -n 10000 --rate 1 --duration 2 --settle 3 ;;
            steady10k) run "$target-$i" -- -n 10000 --rate 10 --duration 20 ;;
            steady1k) run "$target-$i" -- -n 1000 --rate 100 --duration 20 ;;
            sat32) run "$target-$i" -- -n 10000 --max-in-flight 32 --duration 15 ;;
            sat8) run "$target-$i" -- -n 10000 --max-in-flight 8 --duration 15 ;;
            scale19k) run "$target-$i" -- -n 19000 --hold 60 --rate 1 --duration 5 --settle 3 ;;
            fairness) run "$target-$i" -- -n 1000 --rate 50 --duration 20 --probe 4 ;;
            fairness5k) run "$target-$i" -- -n 5000 --rate 10 --duration 20 --probe 4 ;;
            cluster-steady10k) cluster "$target-$i" -n 10000 --rate 10 --duration 20 ;;
            cluster-sat32) cluster "$target-$i" -n 10000 --max-in-flight 32 --duration 15 ;;
            *) echo "unknown target $target" >&2; exit 2 ;;
        esac
    done
done

#!/usr/bin/env bash
# Instructions per cached redirect (user space, whole process: request path and click writer),
# counted by callgrind. Unlike wall-clock figures these repeat exactly for the same binary and
# load, so they show small hot-path changes that timing noise on a shared machine would hide.
#
#   benches/scripts/instructions.sh [redirector-binary]      (default: target/release/redirector)
#   benches/scripts/instructions.sh --rules [binary]         (a link with the `redirect` program's
#                                                             country, device and language rules)
#   benches/scripts/instructions.sh --hyper                  (the bare hyper baseline of `redirect`)
#
# Requests carry the desktop Chrome User-Agent of `redirect`; with --rules also its
# Accept-Language, which the rules read. No GeoIP database is loaded: the country rules are
# evaluated against an unknown country, so the figure leaves out the database lookup (measured
# apart in the `visitor` program).
#
# Needs valgrind, wrk, curl and a Redis at REDIS_URL (default redis://127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")/../.."

redis_url="${REDIS_URL:-redis://127.0.0.1:6379}"
port=$((20000 + RANDOM % 1000))
out="$(mktemp -d)"
prefix="instr-$$-$RANDOM"
trap '[ -n "${KEEP_CALLGRIND:-}" ] && cp "$out"/cg.* /tmp/ 2>/dev/null; rm -rf "$out"; redis-cli -u "$redis_url" --scan --pattern "$prefix:*" | xargs -r redis-cli -u "$redis_url" DEL >/dev/null' EXIT

headers=()
if [ "${1:-}" = "--hyper" ]; then
  label="bare hyper"
  command=(target/release/redirect --baseline-hyper "127.0.0.1:$port" 1)
elif [ "${1:-}" = "--rules" ]; then
  label="redirector, link with rules"
  command=("${2:-target/release/redirector}")
  headers=(-H "Accept-Language: en-US,en;q=0.9")
  rule() { printf '{"key":"%s","url":"https://example.com/%s"}' "$1" "$2"; }
  geo="$(rule CA country),$(rule FR country),$(rule DE country),$(rule JP country),$(rule BR country)"
  devices="$(rule iphone iphone),$(rule android android)"
  languages="$(rule fr fr),$(rule de de)"
  redis-cli -u "$redis_url" SET "$prefix:link:v1:/bench" \
    "{\"v\":1,\"id\":2,\"domain\":\"\",\"alias\":\"bench\",\"url\":\"https://example.com/bench\",\"geo\":[$geo],\"devices\":[$devices],\"languages\":[$languages]}" >/dev/null
else
  label="redirector"
  command=("${1:-target/release/redirector}")
  redis-cli -u "$redis_url" SET "$prefix:link:v1:/bench" \
    '{"v":1,"id":1,"domain":"","alias":"bench","url":"https://example.com/bench"}' >/dev/null
fi

REDIS_URL="$redis_url" REDIS_KEY_PREFIX="$prefix" REDIRECTOR_LISTEN_ADDR="127.0.0.1:$port" \
REDIRECTOR_WORKER_THREADS=1 RUST_LOG=warn \
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" "${command[@]}" 2>/dev/null &
pid=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/bench" && break
  sleep 0.2
done
# A person's browser, as the `redirect` program sends: the edge classes agents without one as bots.
agent="User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
wrk -t1 -c8 -d3s -H "$agent" "${headers[@]}" "http://127.0.0.1:$port/bench" >/dev/null  # warm-up
callgrind_control -z "$pid" >/dev/null
requests=$(wrk -t1 -c8 -d10s -H "$agent" "${headers[@]}" "http://127.0.0.1:$port/bench" | awk '/requests in/ {print $1}')
sleep 0.5
callgrind_control -d "$pid" >/dev/null
sleep 0.5
kill "$pid"
wait "$pid" 2>/dev/null || true
instructions=$(grep -h '^summary:' "$out"/cg.*.* | awk '{print $2}' | sort -n | tail -1)
echo "$label: $requests requests, $instructions instructions, $((instructions / requests)) per request"

#!/usr/bin/env bash
# netchat loss lab: two network namespaces joined by a veth pair, random drop by iptables in each
# namespace's INPUT chain, and netchat peers (lab/peer.mjs on a built @netchat/core) on each side.
# Measures connects under loss, idle-session survival under loss, false alarms on a healthy link,
# and how fast a frozen peer is reported lost. See README.md beside this file.
#
# Needs root (network namespaces, iptables). Everything it creates is removed on exit (trap), and
# every wait is bounded. Traffic only ever goes to addresses inside the two namespaces it made.
#
# usage: sudo lab/loss-lab.sh [options]
#   --dist DIR          built @netchat/core to test (default: packages/core/dist); copied aside first
#   --label NAME        name for this run's figures (default: the build's git commit)
#   --out DIR           where the summary JSON and figure lines go (default: lab/results)
#   --tests "LIST"      any of: connect idle false_alarms frozen (default: all four)
#   --connects N        connects per loss level (default 20)
#   --parallel K        connects in flight at once, each its own pair of peers (default 10)
#   --loss "P ..."      loss levels for the connect test, each way (default "0.3 0.5")
#   --idle-loss P       loss each way for the idle test (default 0.3)
#   --idle-seconds S    idle test length (default 60)
#   --idle-sessions N   idle sessions (default 4)
#   --keep              keep the scratch folder (raw per-process JSON) in /tmp
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CORE_DIR=$(cd "$LAB_DIR/.." && pwd)

DIST="$CORE_DIR/dist"
LABEL=""
OUT="$LAB_DIR/results"
TESTS="connect idle false_alarms frozen"
CONNECTS=20
PARALLEL=10
LOSS_LEVELS="0.3 0.5"
IDLE_LOSS=0.3
IDLE_SECONDS=60
IDLE_SESSIONS=4
KEEP=0
CONNECT_TIMEOUT_MS=30000
MISS_LIMIT=3

while [ $# -gt 0 ]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --label) LABEL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --tests) TESTS=$2; shift 2 ;;
    --connects) CONNECTS=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    --loss) LOSS_LEVELS=$2; shift 2 ;;
    --idle-loss) IDLE_LOSS=$2; shift 2 ;;
    --idle-seconds) IDLE_SECONDS=$2; shift 2 ;;
    --idle-sessions) IDLE_SESSIONS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "loss-lab: unknown option $1" >&2; exit 2 ;;
  esac
done

# Bounds on the sizes, so that no run can grow without limit.
for v in CONNECTS PARALLEL IDLE_SECONDS IDLE_SESSIONS; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || { echo "loss-lab: --${v,,} must be a positive integer" >&2; exit 2; }
done
[ "$CONNECTS" -le 100 ] && [ "$PARALLEL" -le 50 ] && [ "$IDLE_SECONDS" -le 600 ] && [ "$IDLE_SESSIONS" -le 20 ] ||
  { echo "loss-lab: sizes are capped (connects 100, parallel 50, idle seconds 600, idle sessions 20)" >&2; exit 2; }
for p in $LOSS_LEVELS $IDLE_LOSS; do
  [[ $p =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || { echo "loss-lab: loss must be a probability in [0, 1], got $p" >&2; exit 2; }
done

if [ "$(id -u)" -ne 0 ]; then
  echo "loss-lab: needs root (network namespaces and iptables): sudo $0 $*" >&2
  exit 1
fi
[ -f "$DIST/index.js" ] || { echo "loss-lab: no index.js in $DIST (run pnpm --filter @netchat/core build)" >&2; exit 1; }

if ! command -v ip >/dev/null || ! command -v iptables >/dev/null; then
  echo "loss-lab: installing iproute2 and iptables"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 iptables >/dev/null
fi

# One lab at a time on a machine: the namespace names and ports are fixed.
exec 9>/run/netchat-loss-lab.lock
flock -n 9 || { echo "loss-lab: another lab run holds /run/netchat-loss-lab.lock" >&2; exit 1; }

NS_A=nc-a
NS_B=nc-b
VETH_A=nclab-a
VETH_B=nclab-b
ADDR_A=10.99.0.1
ADDR_B=10.99.0.2
for ns in "$NS_A" "$NS_B"; do
  if ip netns list | awk '{print $1}' | grep -qxF "$ns"; then
    echo "loss-lab: namespace $ns already exists (not ours to remove; delete it with 'ip netns del $ns' if it is a leftover)" >&2
    exit 1
  fi
done

WORK=$(mktemp -d /tmp/netchat-lab.XXXXXX)
PIDS=()
CREATED_NS=()

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  # Our own background processes first (a frozen one is resumed so it can die), then anything
  # still running inside our namespaces.
  for pid in "${PIDS[@]}"; do
    kill -CONT "$pid" 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
  done
  for ns in "${CREATED_NS[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -CONT "$pid" 2>/dev/null
      kill -KILL "$pid" 2>/dev/null
    done
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  # Deleting a namespace removes its veth end (and so the pair) and its iptables rules.
  for ns in "${CREATED_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  ip link del "$VETH_A" 2>/dev/null
  if [ "$KEEP" = 1 ]; then echo "loss-lab: raw results kept in $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "[$(date -u +%H:%M:%S)] $*"; }

# The build under test, copied aside so a rebuild during the run changes nothing; its imports
# (zod, sodium-native, ...) resolve through a link to the package's node_modules.
cp -r "$DIST" "$WORK/dist"
ln -s "$CORE_DIR/node_modules" "$WORK/node_modules"
DIST_SHA=$(cd "$WORK/dist" && find . -name '*.js' -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-12)
GIT_HEAD=$(git -C "$CORE_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$LABEL" ] || LABEL="build-$GIT_HEAD"

# --- the network ----------------------------------------------------------------------------
ip netns add "$NS_A"; CREATED_NS+=("$NS_A")
ip netns add "$NS_B"; CREATED_NS+=("$NS_B")
ip link add "$VETH_A" type veth peer name "$VETH_B"
ip link set "$VETH_A" netns "$NS_A"
ip link set "$VETH_B" netns "$NS_B"
ip -n "$NS_A" addr add "$ADDR_A/24" dev "$VETH_A"
ip -n "$NS_B" addr add "$ADDR_B/24" dev "$VETH_B"
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set "$VETH_A" up
ip -n "$NS_B" link set "$VETH_B" up

# Random drop of every packet coming in, in each namespace (so P each way).
set_loss() {
  local p=$1 ns
  for ns in "$NS_A" "$NS_B"; do
    ip netns exec "$ns" iptables -F INPUT
    if [ "$p" != 0 ] && [ "$p" != 0.0 ]; then
      ip netns exec "$ns" iptables -A INPUT -m statistic --mode random --probability "$p" -j DROP
    fi
  done
}

# Runs a peer driver in a namespace in the background, bounded by `timeout`; sets BG_PID.
start_bg() {
  local ns=$1 seconds=$2
  shift 2
  ip netns exec "$ns" timeout -k 5 "$seconds" node "$LAB_DIR/peer.mjs" "$@" --dist "$WORK/dist" &
  BG_PID=$!
  PIDS+=("$BG_PID")
}
# Waits at most `seconds` for a file to appear.
wait_file() {
  local file=$1 seconds=$2 i
  for ((i = 0; i < seconds * 10; i++)); do
    [ -s "$file" ] && return 0
    sleep 0.1
  done
  echo "loss-lab: gave up waiting for $file" >&2
  return 1
}
# Stops a background driver (it writes its result on SIGTERM) and waits for it, at most 10 s.
stop_bg() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true # `timeout` passes it on to its node process
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
SUMMARY="$OUT/$LABEL-$STAMP.json"
FIGURES="$OUT/$LABEL-$STAMP.txt"
node -e '
  const [label, dist, sha, head, summary] = process.argv.slice(1);
  const meta = { label, date: new Date().toISOString(), dist, distSha: sha, gitHead: head,
    kernel: require("node:os").release(), node: process.version, cpus: require("node:os").cpus().length };
  require("node:fs").writeFileSync(summary, JSON.stringify({ meta, tests: [] }, null, 1) + "\n");
' "$LABEL" "$(cd "$DIST" && pwd)" "$DIST_SHA" "$GIT_HEAD" "$SUMMARY"
log "loss lab: label=$LABEL dist=$DIST (sha $DIST_SHA, HEAD $GIT_HEAD); $NS_A $ADDR_A <-> $NS_B $ADDR_B"

report() { node "$LAB_DIR/report.mjs" "$@" --label "$LABEL" --summary "$SUMMARY" | tee -a "$FIGURES"; }

# --- 1. connects under loss -------------------------------------------------------------------
run_connect() {
  local loss=$1 base=$2
  local waves=$(((CONNECTS + PARALLEL - 1) / PARALLEL))
  local bound=$((waves * (CONNECT_TIMEOUT_MS / 1000 + 4) + 30))
  local r="$WORK/connect-$loss-responders.json" i="$WORK/connect-$loss-initiators.json"
  log "connect: $CONNECTS connects at ${loss} loss each way, $PARALLEL at once (at most ${bound} s)"
  set_loss 0
  start_bg "$NS_A" $((bound + 30)) responders --host "$ADDR_A" --port-base "$base" --count "$CONNECTS" \
    --ready "$WORK/connect-$loss.ready" --out "$r" --max-seconds $((bound + 20))
  local rpid=$BG_PID
  wait_file "$WORK/connect-$loss.ready" 30
  set_loss "$loss"
  ip netns exec "$NS_B" timeout -k 5 "$bound" node "$LAB_DIR/peer.mjs" connects --dist "$WORK/dist" \
    --host "$ADDR_B" --target "$ADDR_A" --port-base "$base" --count "$CONNECTS" --parallel "$PARALLEL" \
    --connect-timeout "$CONNECT_TIMEOUT_MS" --out "$i" || log "connect: initiators exited with $?"
  stop_bg "$rpid"
  set_loss 0
  report connect --loss "$loss" --initiator "$i" --responder "$r"
}

# --- 2 and 3. idle sessions (survival under loss; false alarms on a clean link) ----------------
run_idle() {
  local name=$1 loss=$2 hb=$3 seconds=$4 count=$5 base=$6
  local r="$WORK/$name-responders.json" i="$WORK/$name-initiators.json"
  log "$name: $count idle sessions, heartbeat ${hb} ms, ${loss} loss each way, ${seconds} s"
  set_loss 0
  start_bg "$NS_A" $((seconds + 120)) responders --host "$ADDR_A" --port-base "$base" --count "$count" \
    --heartbeat "$hb" --ready "$WORK/$name-a.ready" --out "$r" --max-seconds $((seconds + 110))
  local rpid=$BG_PID
  wait_file "$WORK/$name-a.ready" 30
  start_bg "$NS_B" $((seconds + 90)) idle --host "$ADDR_B" --target "$ADDR_A" --port-base "$base" --count "$count" \
    --heartbeat "$hb" --seconds "$seconds" --ready "$WORK/$name-b.ready" --go "$WORK/$name.go" --out "$i"
  local ipid=$BG_PID
  wait_file "$WORK/$name-b.ready" 40
  set_loss "$loss"
  echo go >"$WORK/$name.go"
  wait "$ipid" || log "$name: initiators exited with $?"
  stop_bg "$rpid"
  set_loss 0
  report idle --name "$name" --loss "$loss" --heartbeat "$hb" --initiator "$i" --responder "$r"
}

# --- 4. a frozen peer --------------------------------------------------------------------------
run_frozen() {
  local hb=200 count=5 base=44000
  local r="$WORK/frozen-responders.json" i="$WORK/frozen-initiators.json"
  log "frozen: $count sessions, heartbeat ${hb} ms, clean link; the responder process is stopped (SIGSTOP)"
  set_loss 0
  start_bg "$NS_A" 90 responders --host "$ADDR_A" --port-base "$base" --count "$count" \
    --heartbeat "$hb" --miss-limit "$MISS_LIMIT" --ready "$WORK/frozen-a.ready" --out "$r" --max-seconds 80
  local rpid=$BG_PID
  wait_file "$WORK/frozen-a.ready" 30
  start_bg "$NS_B" 70 idle --host "$ADDR_B" --target "$ADDR_A" --port-base "$base" --count "$count" \
    --heartbeat "$hb" --miss-limit "$MISS_LIMIT" --ready "$WORK/frozen-b.ready" --go "$WORK/frozen.go" \
    --freeze-pid-file "$WORK/frozen-a.ready" --out "$i"
  local ipid=$BG_PID
  wait_file "$WORK/frozen-b.ready" 40
  echo go >"$WORK/frozen.go"
  wait "$ipid" || log "frozen: initiators exited with $?"
  stop_bg "$rpid"
  report frozen --heartbeat "$hb" --miss-limit "$MISS_LIMIT" --initiator "$i" --responder "$r"
}

base=41000
for t in $TESTS; do
  case "$t" in
    connect) for loss in $LOSS_LEVELS; do run_connect "$loss" "$base"; base=$((base + 200)); done ;;
    idle) run_idle idle "$IDLE_LOSS" 200 "$IDLE_SECONDS" "$IDLE_SESSIONS" 43000 ;;
    false_alarms) run_idle false_alarms 0 300 10 4 43500 ;;
    frozen) run_frozen ;;
    *) echo "loss-lab: unknown test $t" >&2; exit 2 ;;
  esac
done
log "figures: $FIGURES; JSON: $SUMMARY"

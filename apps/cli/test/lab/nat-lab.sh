#!/usr/bin/env bash
# Builds (up) or removes (down) the NAT lab of nat-lab.test.ts: a "public" network with the
# rendezvous, and two homes, each behind its own NAT router (iptables MASQUERADE, with
# --random-fully when MODE is random). Only addresses inside these namespaces are used:
#
#   P-pub  10.200.0.1 (bridge) ─┬─ 10.200.0.2 P-ra (NAT) 192.168.1.1 ── 192.168.1.2 P-a
#                               ├─ 10.200.0.3 P-rb (NAT) 192.168.2.1 ── 192.168.2.2 P-b
#                               └─ 10.200.0.4 P-rc (NAT) 192.168.1.1 ┄┄ (P-a, once it moves)
#
# Home c is a third home with nobody in it, numbered as home a is (many home routers hand out
# 192.168.1.x): `move` carries P-a's laptop there, so it keeps its own address and socket, and
# the world sees it at a new public address.
#
# A router drops every unsolicited UDP datagram to itself (as home routers do), so only what a
# home asked for (conntrack) gets in.   usage: nat-lab.sh up|down PREFIX [eim|random] [eim|random]
# (the second mode: home c's router, if it differs from the others')
#
# What a test does to a router on a living lab (SIDE is a or b; each prints nothing and exits 0):
#   nat-lab.sh loss PREFIX SIDE PROBABILITY [in|out]
#                                            drop that share of what the router forwards, both ways,
#                                            or only into the home (in) or only out of it (out)
#   nat-lab.sh duplicate PREFIX SIDE PROBABILITY
#                                            deliver that share of what comes into the home twice
#                                            (iptables TEE: a copy to the home's address; the lab
#                                            has no netem, so no duplication out of the home)
#   nat-lab.sh reorder PREFIX SIDE PROBABILITY
#                                            hold back that share of what comes into the home in a
#                                            slow queue of its own (tc htb, picked by iptables
#                                            CLASSIFY), so what came after it overtakes it
#   nat-lab.sh move PREFIX                   carry P-a's laptop from home a to home c: its link to
#                                            router a is unplugged and one to router c plugged in
#   nat-lab.sh cut PREFIX SIDE               drop everything it forwards, both ways (a cable cut)
#   nat-lab.sh restore PREFIX SIDE           undo loss, cut, duplicate and reorder: forward
#                                            everything again, once each, in order
#   nat-lab.sh rate PREFIX SIDE RATE         shape both of its links to RATE (tc tbf, e.g. 8mbit)
#   nat-lab.sh rebind PREFIX SIDE            the NAT forgets its mappings (conntrack -F) and maps
#                                            anew from another port range, so the home's next
#                                            datagram leaves from a new public port
#   nat-lab.sh neighbour PREFIX              a second laptop behind router a (P-n, 192.168.3.2, on
#                                            the router's second home port, 192.168.3.1): the world
#                                            sees it at 10.200.0.2 too, and the router does not
#                                            hairpin (no DNAT: a datagram to its own public address
#                                            from inside is not sent back in)
#
# A test names its lab after its own process (n<pid in base 36>x<serial>, f<pid in base 36>r), so a
# lab whose process is gone (a run killed before its clean-up) is known stale: `up` removes those
# first, and `nat-lab.sh sweep` does only that. A lab of a living process is never touched.
set -euo pipefail
action=$1 p=${2:-} mode=${3:-eim} mode_c=${4:-${3:-eim}}

sweep() {
  local ns owner
  for ns in $(ip netns list | cut -d' ' -f1); do
    [[ $ns =~ ^[nf]([0-9a-z]+)(x[0-9]+|r)-(pub|ra|rb|rc|a|b|n)$ ]] || continue
    owner=$((36#${BASH_REMATCH[1]}))
    kill -0 "$owner" 2>/dev/null && continue
    ip netns del "$ns" 2>/dev/null || true
  done
}
if [ "$action" = sweep ]; then sweep; exit 0; fi

# `nat-lab.sh probe PREFIX`: whether this kernel can duplicate and reorder (TEE, CLASSIFY, htb),
# tried in a namespace of its own that is removed at once; prints what is missing, or nothing.
if [ "$action" = probe ]; then
  ns="$p-pub" missing=()
  ip netns add "$ns"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip -n "$ns" link add "${p}v0" type veth peer name "${p}v1"
  ip netns exec "$ns" iptables -t mangle -A FORWARD -j TEE --gateway 192.168.1.2 2>/dev/null || missing+=(TEE)
  ip netns exec "$ns" iptables -t mangle -A FORWARD -j CLASSIFY --set-class 1:2 2>/dev/null || missing+=(CLASSIFY)
  ip netns exec "$ns" tc qdisc add dev "${p}v0" root handle 1: htb default 1 2>/dev/null || missing+=(htb)
  echo "${missing[*]}"
  exit 0
fi

down() {
  for ns in "$p-a" "$p-b" "$p-n" "$p-ra" "$p-rb" "$p-rc" "$p-pub"; do ip netns del "$ns" 2>/dev/null || true; done
}

if [ "$action" = down ]; then down; exit 0; fi

if [ "$action" = neighbour ]; then
  ip netns add "$p-n"
  ip -n "$p-n" link set lo up
  ip link add "${p}ja" netns "$p-ra" type veth peer name "${p}ka" netns "$p-n"
  ip -n "$p-ra" addr add 192.168.3.1/24 dev "${p}ja"
  ip -n "$p-ra" link set "${p}ja" up
  ip -n "$p-n" addr add 192.168.3.2/24 dev "${p}ka"
  ip -n "$p-n" link set "${p}ka" up
  ip -n "$p-n" route add default via 192.168.3.1
  exit 0
fi

# The sub-commands on a router of a lab that is up. Loss and cut are rules of the router's FORWARD
# chain, duplicate and reorder of its mangle table's FORWARD chain, which nothing else uses, so
# restore empties both (and removes reorder's queues).
side=${3:-} r="$p-r${3:-}"
in_router() { ip netns exec "$r" "$@"; }
home_address() { case $side in a) echo 192.168.1.2 ;; b) echo 192.168.2.2 ;; esac; }
case $action in
  loss)
    direction=()
    case ${5:-both} in
      in) direction=(-i "${p}w$side") ;;
      out) direction=(-o "${p}w$side") ;;
    esac
    in_router iptables -I FORWARD "${direction[@]}" -m statistic --mode random --probability "$4" -j DROP
    exit 0 ;;
  cut) in_router iptables -I FORWARD -j DROP; exit 0 ;;
  duplicate)
    # TEE after the NAT has put the home's own address back (FORWARD), so the copy is routed to it.
    in_router iptables -t mangle -A FORWARD -i "${p}w$side" -p udp -m statistic --mode random \
      --probability "$4" -j TEE --gateway "$(home_address)"
    exit 0 ;;
  reorder)
    # An htb qdisc on the home's link: class 1 is the ordinary path, class 2 a slow one (1 Mbit/s:
    # a datagram of 1200 bytes waits 10 ms there, more once a few queue up) for the share
    # iptables CLASSIFYs into it, so what came after a held-back datagram overtakes it. (This
    # kernel has neither netem nor the prio qdisc nor the fw classifier; htb, CLASSIFY it has.)
    dev="${p}i$side"
    in_router tc qdisc replace dev "$dev" root handle 1: htb default 1
    in_router tc class replace dev "$dev" parent 1: classid 1:1 htb rate 10gbit quantum 1514
    in_router tc class replace dev "$dev" parent 1: classid 1:2 htb rate 1mbit ceil 1mbit quantum 1514
    in_router iptables -t mangle -A FORWARD -i "${p}w$side" -p udp -m statistic --mode random \
      --probability "$4" -j CLASSIFY --set-class 1:2
    exit 0 ;;
  restore)
    in_router iptables -F FORWARD
    in_router iptables -t mangle -F FORWARD
    in_router tc qdisc del dev "${p}i$side" root 2>/dev/null || true
    exit 0 ;;
  move)
    # Unplugging a's link removes both its ends (and router a's conntrack for it no longer matters).
    ip -n "$p-a" link del "${p}ha"
    ip link add "${p}ic" netns "$p-rc" type veth peer name "${p}hc" netns "$p-a"
    ip -n "$p-rc" addr add 192.168.1.1/24 dev "${p}ic"
    ip -n "$p-rc" link set "${p}ic" up
    ip -n "$p-a" addr add 192.168.1.2/24 dev "${p}hc"
    ip -n "$p-a" link set "${p}hc" up
    ip -n "$p-a" route add default via 192.168.1.1
    exit 0 ;;
  rate)
    for dev in "${p}w$side" "${p}i$side"; do
      in_router tc qdisc replace dev "$dev" root tbf rate "$4" burst 32kb latency 200ms
    done
    exit 0 ;;
  rebind)
    # MASQUERADE keeps a home's source port when it is free, so forgetting alone maps the same
    # port again: a rule ahead of it maps UDP into a range the old mapping did not use (the homes'
    # own ports are Linux's ephemeral 32768-60999), alternating between two so each rebind moves.
    dev="${p}w$side" random=() range=20000-29999 old=10000-19999
    in_router iptables -t nat -S POSTROUTING | grep -q -- --random-fully && random=(--random-fully)
    masquerade() { # -D|-I, the port range, then where (-I 1)
      local op=$1 ports=$2
      shift 2
      in_router iptables -t nat "$op" POSTROUTING "$@" -o "$dev" -p udp -j MASQUERADE --to-ports "$ports" "${random[@]}"
    }
    if in_router iptables -t nat -S POSTROUTING | grep -q -- '--to-ports 20000-29999'; then
      range=10000-19999 old=20000-29999
    fi
    in_router iptables -t nat -S POSTROUTING | grep -q -- "--to-ports $old" && masquerade -D "$old"
    masquerade -I "$range" 1
    in_router conntrack -F 2>/dev/null
    exit 0 ;;
esac
trap 'down' ERR
sweep

for ns in pub ra rb rc a b; do ip netns add "$p-$ns"; ip -n "$p-$ns" link set lo up; done
ip -n "$p-pub" link add br0 type bridge
ip -n "$p-pub" addr add 10.200.0.1/24 dev br0
ip -n "$p-pub" link set br0 up

router() { # side, router's public address, home prefix (192.168.N); home c: no home link yet
  local side=$1 public=$2 home=$3 r="$p-r$1" h="$p-$1"
  ip link add "${p}w$side" netns "$r" type veth peer name "${p}x$side" netns "$p-pub"
  ip -n "$p-pub" link set "${p}x$side" master br0 up
  ip -n "$r" addr add "$public/24" dev "${p}w$side"
  ip -n "$r" link set "${p}w$side" up
  [ "$side" = c ] || home_link
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
  local random=() its_mode=$mode
  [ "$side" = c ] && its_mode=$mode_c
  [ "$its_mode" = random ] && random=(--random-fully)
  ip netns exec "$r" iptables -t nat -A POSTROUTING -o "${p}w$side" -j MASQUERADE "${random[@]}"
  ip netns exec "$r" iptables -A INPUT -i "${p}w$side" -p udp -j DROP
}
home_link() {
  ip link add "${p}i$side" netns "$r" type veth peer name "${p}h$side" netns "$h"
  ip -n "$r" addr add "$home.1/24" dev "${p}i$side"
  ip -n "$r" link set "${p}i$side" up
  ip -n "$h" addr add "$home.2/24" dev "${p}h$side"
  ip -n "$h" link set "${p}h$side" up
  ip -n "$h" route add default via "$home.1"
}
router a 10.200.0.2 192.168.1
router b 10.200.0.3 192.168.2
router c 10.200.0.4 192.168.1

#!/usr/bin/env bash
# Builds (up) or removes (down) the NAT lab of nat-lab.test.ts: a "public" network with the
# rendezvous, and two homes, each behind its own NAT router (iptables MASQUERADE, with
# --random-fully when MODE is random). Only addresses inside these namespaces are used:
#
#   P-pub  10.200.0.1 (bridge) ─┬─ 10.200.0.2 P-ra (NAT) 192.168.1.1 ── 192.168.1.2 P-a
#                               └─ 10.200.0.3 P-rb (NAT) 192.168.2.1 ── 192.168.2.2 P-b
#
# A router drops every unsolicited UDP datagram to itself (as home routers do), so only what a
# home asked for (conntrack) gets in.   usage: nat-lab.sh up|down PREFIX [eim|random]
#
# A test names its lab after its own process (n<pid in base 36>x<serial>, f<pid in base 36>r), so a
# lab whose process is gone (a run killed before its clean-up) is known stale: `up` removes those
# first, and `nat-lab.sh sweep` does only that. A lab of a living process is never touched.
set -euo pipefail
action=$1 p=${2:-} mode=${3:-eim}

sweep() {
  local ns owner
  for ns in $(ip netns list | cut -d' ' -f1); do
    [[ $ns =~ ^[nf]([0-9a-z]+)(x[0-9]+|r)-(pub|ra|rb|a|b)$ ]] || continue
    owner=$((36#${BASH_REMATCH[1]}))
    kill -0 "$owner" 2>/dev/null && continue
    ip netns del "$ns" 2>/dev/null || true
  done
}
if [ "$action" = sweep ]; then sweep; exit 0; fi

down() {
  for ns in "$p-a" "$p-b" "$p-ra" "$p-rb" "$p-pub"; do ip netns del "$ns" 2>/dev/null || true; done
}

if [ "$action" = down ]; then down; exit 0; fi
trap 'down' ERR
sweep

for ns in pub ra rb a b; do ip netns add "$p-$ns"; ip -n "$p-$ns" link set lo up; done
ip -n "$p-pub" link add br0 type bridge
ip -n "$p-pub" addr add 10.200.0.1/24 dev br0
ip -n "$p-pub" link set br0 up

router() { # side, router's public address, home prefix (192.168.N)
  local side=$1 public=$2 home=$3 r="$p-r$1" h="$p-$1"
  ip link add "${p}w$side" netns "$r" type veth peer name "${p}x$side" netns "$p-pub"
  ip -n "$p-pub" link set "${p}x$side" master br0 up
  ip -n "$r" addr add "$public/24" dev "${p}w$side"
  ip -n "$r" link set "${p}w$side" up
  ip link add "${p}i$side" netns "$r" type veth peer name "${p}h$side" netns "$h"
  ip -n "$r" addr add "$home.1/24" dev "${p}i$side"
  ip -n "$r" link set "${p}i$side" up
  ip -n "$h" addr add "$home.2/24" dev "${p}h$side"
  ip -n "$h" link set "${p}h$side" up
  ip -n "$h" route add default via "$home.1"
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
  local random=()
  [ "$mode" = random ] && random=(--random-fully)
  ip netns exec "$r" iptables -t nat -A POSTROUTING -o "${p}w$side" -j MASQUERADE "${random[@]}"
  ip netns exec "$r" iptables -A INPUT -i "${p}w$side" -p udp -j DROP
}
router a 10.200.0.2 192.168.1
router b 10.200.0.3 192.168.2

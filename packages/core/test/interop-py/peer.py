"""A netchat peer from PROTOCOL.md alone: one channel, one session, text both ways, heartbeats,
and a clean close, over real UDP. Prints one JSON object a line on stdout; exits 0 when every
goal was met and the session closed cleanly, 1 otherwise (with a "fail" line saying why).

  python3 peer.py [--connect HOST:PORT] [--send TEXT] [--expect TEXT] [--heartbeats N]
                  [--wait-close] [--nick NICK] [--heartbeat-ms MS] [--timeout SECS]

Without --connect it listens on 127.0.0.1 port 0 (printed as {"type":"listening","port":P})
and answers the first request."""

import argparse
import os
import select
import socket
import sys
import time

import noise
from channel import Channel
from common import log, rand_u32
from probes import Probes
from session import Session


class Peer(Channel, Session, Probes):
    """The peer's state in one record (channel, session, probes); its parts' methods come from
    channel.py, session.py and probes.py. One socket loop and named timers drive it."""

    def __init__(self, args):
        self.args = args
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.socks = [self.sock]  # every socket it reads: the one it left after --roam too
        self.on_socket = self.sock
        self.pending = {}  # what --extras waits for: name -> what it sent
        self.roamed = None  # --roam: None, "moved" (sending from a new port), "challenged", "done"
        self.static = os.urandom(32)
        self.timers = {}  # name -> (due, callback)
        self.stats = {"dropped": 0, "heartbeats_answered": 0, "heartbeats_sent": 0, "acks": 0}
        # Channel.
        self.addr = None
        self.index = rand_u32()
        self.peer_index = None
        self.hs = None
        self.msg1 = None
        self.response = None  # responder: the bytes of our response, for a repeated init
        self.cookie = b"\x00" * 16
        self.keys = None
        self.send_counter = 0
        self.seen = set()
        self.confirmed = False
        # Session.
        self.session = None
        self.state = None
        self.interval = args.heartbeat_ms / 1000
        self.opened_at = None
        self.next_seq = 0
        self.in_flight = {}  # seq -> (message dict, last sent)
        self.messages_sent = 0
        self.delivered = 0
        self.rx_next = 0
        self.rx_parts = []
        self.received = []
        self.disconnects_sent = 0
        self.done = None
        self.goals_met = False
        self.peer_features = False
        self.early_features = None
        self.first_decline = None
        self.rx_newest_at = 0.0
        self.losses = list(args.lose)
        self.cookie_secret = os.urandom(32)

    def at(self, name, delay, callback):
        self.timers[name] = (time.monotonic() + delay, callback)

    def cancel(self, name):
        self.timers.pop(name, None)

    def run(self, deadline):
        while self.done is None:
            now = time.monotonic()
            if now > deadline:
                self.fail("timed out")
                break
            for name, (due, cb) in list(self.timers.items()):
                if due <= now and self.timers.get(name) == (due, cb):
                    del self.timers[name]
                    cb()
                    if self.done is not None:
                        return self.done
            nxt = min([due for due, _ in self.timers.values()] + [deadline])
            ready, _, _ = select.select(self.socks, [], [], max(0.001, nxt - time.monotonic()))
            if not ready:
                continue
            b, addr = ready[0].recvfrom(2048)
            self.on_socket = ready[0]
            try:
                self.on_packet(b, addr)
            except Exception as e:  # nothing from the network may end the peer
                self.stats["dropped"] += 1
                log(type="error", error=repr(e))
        return self.done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect")
    ap.add_argument("--nick", default="py")
    ap.add_argument("--heartbeat-ms", type=int, default=200)
    ap.add_argument("--send")
    ap.add_argument("--expect")
    ap.add_argument("--heartbeats", type=int, default=2, help="heartbeats to answer before closing")
    ap.add_argument("--wait-close", action="store_true", help="once every goal is met, wait for the peer to close")
    ap.add_argument("--session-id", type=int, help="the session id to ask with (default random, never 0)")
    ap.add_argument("--rekey-after", type=int, help="after this many data packets, move to the next epoch's key")
    ap.add_argument("--no-features", action="store_true", help="act as a peer that predates capabilities")
    ap.add_argument("--cookie", action="store_true", help="as responder, act under load: ask every new address for a cookie")
    ap.add_argument("--lose", action="append", default=[], choices=["response", "final", "text_in", "text_out"], help="lose the first of these (repeatable)")
    ap.add_argument("--extras", metavar="PROTOCOL_MD", help="also send a path challenge, messages for unknown sessions, and the document's invalid session messages")
    ap.add_argument("--roam", action="store_true", help="once every other goal is met, move to a new port, and wait until the peer follows")
    ap.add_argument("--freeze", action="store_true", help="once every goal is met, go silent and log the peer's probes until it gives up")
    ap.add_argument("--restart", action="store_true", help="once every goal is met, restart (same key and port) and chat again")
    ap.add_argument("--epochs", action="store_true", help="at the open, check which epochs the peer takes")
    ap.add_argument("--expect-decline", choices=["declined", "busy", "not_allowed", "too_many_sessions"], help="the request must be declined so, twice")
    ap.add_argument("--hold", type=int, default=0, help="send at least this many heartbeats before closing")
    ap.add_argument("--simultaneous", action="store_true", help="as responder, also ask at once (with --session-id to win or lose)")
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    args.invalid = []
    if args.extras:
        import vectors

        text = open(args.extras, encoding="utf-8").read()
        args.invalid = [vectors.hexbytes(vectors.fields(body)["hex"]) for kind, body in vectors.blocks(text) if kind == "invalid"]
    peer = Peer(args)
    log(type="listening", port=peer.sock.getsockname()[1], fingerprint=noise.fingerprint(noise.public_of(peer.static)))
    if args.connect:
        host, port = args.connect.rsplit(":", 1)
        peer.connect((host, int(port)))
    code = peer.run(time.monotonic() + args.timeout)
    peer.sock.close()
    sys.exit(code)


if __name__ == "__main__":
    main()

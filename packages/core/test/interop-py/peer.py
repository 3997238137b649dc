"""A netchat peer from PROTOCOL.md alone: one channel, one session, text both ways, heartbeats,
and a clean close, over real UDP. Prints one JSON object a line on stdout; exits 0 when every
goal was met and the session closed cleanly, 1 otherwise (with a "fail" line saying why).

  python3 peer.py [--connect HOST:PORT] [--send TEXT] [--expect TEXT] [--heartbeats N]
                  [--wait-close] [--nick NICK] [--heartbeat-ms MS] [--timeout SECS]

Without --connect it listens on 127.0.0.1 port 0 (printed as {"type":"listening","port":P})
and answers the first request."""

import argparse
import json
import os
import select
import socket
import struct
import sys
import time

import noise
import wire

FRAGMENT = 1142
RTO = 1.0  # before any measurement (Reliable, ordered text); this peer does not measure


def log(**event):
    print(json.dumps(event), flush=True)


def rand_u32():
    while True:
        v = struct.unpack(">I", os.urandom(4))[0]
        if v:
            return v


class Peer:
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

    # --- timers and sending ----------------------------------------------------------------

    def at(self, name, delay, callback):
        self.timers[name] = (time.monotonic() + delay, callback)

    def cancel(self, name):
        self.timers.pop(name, None)

    def lose(self, what):
        """True once for each name in --lose: the packet is 'lost' (not sent, or not read)."""
        if what in self.losses:
            self.losses.remove(what)
            log(type="lost", what=what)
            return True
        return False

    def send_raw(self, b, addr=None):
        kind = {wire.RESPONSE: "response", wire.FINAL: "final"}.get(b[3])
        if kind and self.lose(kind):
            return
        self.sock.sendto(b, addr or self.addr)

    def send_payload(self, payload, addr=None):
        send_key, _ = self.keys
        if self.args.rekey_after is not None and self.send_counter == self.args.rekey_after:
            # As a sender 120 s into an epoch does: the next epoch's key, from its first counter.
            epoch = self.send_counter // noise.EPOCH + 1
            self.keys = (noise.rekey(send_key), self.keys[1])
            send_key = self.keys[0]
            self.send_counter = epoch * noise.EPOCH
            log(type="rekeyed", epoch=epoch)
        h = wire.data_header(self.peer_index, self.send_counter)
        self.send_raw(h + noise.seal(send_key, self.send_counter, h, payload), addr)
        self.send_counter += 1

    def send_message(self, m):
        m.setdefault("session", self.session)
        self.send_payload(wire.encode_message(m))

    def ack_fields(self):
        # This peer keeps no fragment beyond a gap, so sack is 0; ackDelay is the time since the
        # newest fragment covered (seq ack - 1) arrived, in 8 us units, 0 if none did.
        if self.rx_next == 0:
            return {"ack": 0, "sack": 0, "ackDelay": 0}
        delay = round((time.monotonic() - self.rx_newest_at) / 8e-6)
        return {"ack": self.rx_next, "sack": 0, "ackDelay": min(delay, 65535)}

    # --- handshake -------------------------------------------------------------------------

    def connect(self, addr):
        self.addr = addr
        self.start_handshake()
        self.connect_deadline = time.monotonic() + 30

    def start_handshake(self):
        self.hs = noise.Handshake(True, self.static, os.urandom(32))
        self.msg1 = self.hs.write_message1()
        self.keys = None
        self.send_init(0.5)

    def send_init(self, gap):
        self.send_raw(wire.encode_init(self.index, self.cookie, self.msg1))
        self.at("init", gap, lambda: self.send_init(min(gap * 2, 2)))

    def send_final(self):
        self.send_raw(wire.encode_final(self.peer_index, self.final_msg))
        self.at("final", 0.5, self.send_final)

    def on_packet(self, b, addr):
        try:
            p = wire.decode_packet(b)
        except wire.Malformed:
            self.stats["dropped"] += 1
            return
        t = p["type"]
        if t == "cookie_reply" and self.args.connect and self.hs and self.hs.rs is None:
            if addr == self.addr and p["receiver"] == self.index:
                self.cookie = p["cookie"]
                self.send_raw(wire.encode_init(self.index, self.cookie, self.msg1))
            return
        if t == "response" and self.args.connect and addr == self.addr and p["receiver"] == self.index:
            if self.hs.rs is not None:
                if p["sender"] == self.peer_index and not self.confirmed:
                    self.send_raw(wire.encode_final(self.peer_index, self.final_msg))
                return
            try:
                self.hs.read_message2(p["noise"])
            except Exception:
                self.stats["dropped"] += 1
                self.start_handshake()  # its Noise state is spent: start over
                return
            self.cancel("init")
            self.peer_index = p["sender"]
            self.final_msg = self.hs.write_message3()
            self.keys = self.hs.split()
            log(type="handshake", role="initiator", peer=noise.fingerprint(self.hs.rs))
            self.send_final()
            self.open_session_request()
            return
        if t == "init" and not self.args.connect:
            if self.keys is None and self.response and (addr, p["sender"], p["noise"]) == self.response[0]:
                self.send_raw(self.response[1], addr)  # a repeated init: the same response
                return
            if self.keys is not None:
                return  # this peer holds one channel; a restart is beyond its scope
            if self.args.cookie:
                # Under load, as PROTOCOL.md's step 3: a cookie for the sender's address first.
                want = noise.blake2b(f"{addr[0]}:{addr[1]}".encode(), 16, self.cookie_secret)
                if p["cookie"] != want:
                    self.send_raw(wire.encode_cookie_reply(p["sender"], want), addr)
                    log(type="cookie_reply")
                    return
            hs = noise.Handshake(False, self.static, os.urandom(32))
            try:
                hs.read_message1(p["noise"])
                msg2 = hs.write_message2()
            except Exception:
                self.stats["dropped"] += 1
                return
            self.hs, self.addr, self.peer_index = hs, addr, p["sender"]
            out = wire.encode_response(self.index, p["sender"], msg2)
            self.response = ((addr, p["sender"], p["noise"]), out)
            self.send_raw(out, addr)
            return
        if t == "final" and not self.args.connect and addr == self.addr and p["receiver"] == self.index:
            if self.keys is not None:
                self.send_payload(b"")  # a repeated final: another keepalive
                return
            try:
                self.hs.read_message3(p["noise"])
            except Exception:
                self.stats["dropped"] += 1
                self.hs = self.response = None
                return
            self.keys = self.hs.split()
            log(type="handshake", role="responder", peer=noise.fingerprint(self.hs.rs))
            self.send_payload(b"")  # the confirmation
            if self.args.simultaneous:
                # Asks too, at once: its request crosses the peer's (Simultaneous open).
                self.connect_deadline = time.monotonic() + 30
                self.open_session_request()
            return
        if t == "data" and self.keys is not None and p["receiver"] == self.index:
            self.on_data(p, addr)
            return
        self.stats["dropped"] += 1

    def on_data(self, p, addr):
        if getattr(self, "frozen_at", None) is not None:
            try:
                payload = noise.open_(self.keys[1], p["counter"], p["ad"], p["ciphertext"])
                m = wire.decode_message(payload)
            except Exception:
                return
            now = time.monotonic()
            self.timeline.append([m["type"], round((now - self.frozen_at) * 1000)])
            self.at("thaw", 2, self.thaw)
            return
        c = p["counter"]
        if c in self.seen or (self.seen and c + 2048 <= max(self.seen)):
            self.stats["dropped"] += 1
            return
        try:
            payload = noise.open_(self.keys[1], c, p["ad"], p["ciphertext"])
        except Exception:
            self.stats["dropped"] += 1
            return
        self.seen.add(c)
        if not self.confirmed:
            self.confirmed = True
            self.cancel("final")
        if not payload:
            return  # a keepalive
        if self.roamed in ("moved", "challenged") and self.on_socket is self.sock:
            if payload[:1] == b"\x01":
                self.roamed = "challenged"
            elif self.roamed == "challenged":
                # A packet of the peer at the new port, not a challenge: the channel moved.
                self.roamed = "done"
                log(type="roamed")
        if payload[0] == 1 and len(payload) == 9:
            self.send_payload(b"\x02" + payload[1:], addr)
            return
        if payload[0] == 2 and len(payload) == 9:
            if self.pending.get("path_response") == payload[1:]:
                del self.pending["path_response"]
                log(type="path_response")
            else:
                self.stats["dropped"] += 1
            return
        if payload[:2] != wire.MAGIC or len(payload) < 3 or payload[2] != wire.VERSION:
            self.stats["dropped"] += 1  # a path response we never asked for, or a rendezvous message
            return
        try:
            m = wire.decode_message(payload)
        except wire.Malformed:
            self.stats["dropped"] += 1
            return
        self.on_message(m)

    # --- session ---------------------------------------------------------------------------

    def features(self):
        # Text only: no streams, so no window and no streams granted. It asks (flags bit 0)
        # while it has not received the peer's.
        ask = 0 if self.peer_features else 1
        return {"type": "features", "features": 0, "flags": ask, "streamWindow": 0, "maxStreams": 0}

    def open_session_request(self):
        self.session = rand_u32() if self.args.session_id is None else self.args.session_id
        self.state = "connecting"
        self.send_request(0.5)

    def send_request(self, gap):
        if time.monotonic() > self.connect_deadline:
            self.fail("no answer to connect_request")
            return
        if not self.args.no_features:
            self.send_message(self.features())
        self.send_message({"type": "connect_request", "heartbeatMs": self.args.heartbeat_ms, "nick": self.args.nick})
        self.at("request", gap, lambda: self.send_request(min(gap * 2, 2)))

    def on_message(self, m):
        t, sid = m["type"], m["session"]
        if self.session is None and t == "connect_request" and not self.args.connect:
            self.peer_features = self.early_features == sid
            self.session, self.state = sid, "open"
            self.interval = min(m["heartbeatMs"], self.args.heartbeat_ms) / 1000
            log(type="request", nick=m["nick"], heartbeatMs=m["heartbeatMs"])
            self.accept()
            self.on_open()
            return
        if self.state == "connecting" and t == "connect_request" and sid != self.session:
            # Simultaneous open: the larger id wins; the side with the smaller adopts it.
            log(type="crossing_request", ours=self.session, theirs=sid)
            if sid > self.session:
                self.cancel("request")
                self.session, self.state = sid, "open"
                self.interval = min(m["heartbeatMs"], self.args.heartbeat_ms) / 1000
                self.accept()
                self.on_open()
            return
        if self.session is None and t == "features" and not self.args.connect:
            self.early_features = sid  # the requester's, ahead of its request: kept for it
            return
        if sid != self.session or self.state is None:
            self.unknown_session(m)
            return
        if t == "features":
            self.peer_features = True
            log(type="features", features=m["features"], flags=m["flags"])
            if m["flags"] & 1 and self.state in ("connecting", "open") and not self.args.no_features:
                self.send_message(self.features())
            return
        if self.state == "connecting":
            if t == "connect_request" and sid != self.session:
                pass  # a crossing request: handled below, under the id it names
            elif t == "accept":
                self.cancel("request")
                self.state = "open"
                self.interval = min(m["heartbeatMs"], self.args.heartbeat_ms) / 1000
                log(type="accepted", nick=m["nick"], heartbeatMs=m["heartbeatMs"])
                self.on_open()
            elif t == "decline":
                self.on_decline(m)
            elif t == "disconnect":
                self.send_message({"type": "disconnect_ack"})
                self.fail("disconnected while connecting")
            return
        if t == "disconnect":
            self.send_message({"type": "disconnect_ack"})
            self.finish("peer_closed")
            return
        if t == "disconnect_ack" and self.state == "closing":
            self.finish("closed")
            return
        if t == "connect_request" and self.state == "open" and not self.args.connect:
            self.accept()  # our accept was lost
            return
        if t in ("text", "heartbeat", "ack") and self.state in ("open", "lingering", "closing"):
            self.take_ack(m)
        if t == "text":
            if self.lose("text_in"):
                return
            self.on_text(m)
        elif t == "heartbeat":
            self.send_message({"type": "ack", **self.ack_fields()})
            self.stats["heartbeats_answered"] += 1
            self.check_goals()
        elif t == "ack":
            self.stats["acks"] += 1
        elif t == "presence":
            log(type="presence", nick=m["nick"], activity=m["activity"])

    def on_decline(self, m):
        """A decline ends the request, unless --expect-decline names its reason: then the
        request goes once more (as if the decline was lost) and must get the same decline, from
        a session the peer keeps draining (Connecting, step 4)."""
        log(type="declined", reason=m["reason"], detail=m["detail"])
        if m["reason"] != self.args.expect_decline:
            self.fail(f"declined: {m['reason']} {m['detail']}")
            return
        if self.first_decline is None:
            self.first_decline = m
            self.cancel("request")
            self.send_message(self.features())
            self.send_message({"type": "connect_request", "heartbeatMs": self.args.heartbeat_ms, "nick": self.args.nick})
            return
        if m != self.first_decline:
            self.fail("a second decline unlike the first")
            return
        self.state = None
        self.timers.clear()
        log(type="closed", how="declined_twice", **self.stats)
        self.done = 0

    def unknown_session(self, m):
        t = m["type"]
        if t == "disconnect_ack" and m["session"] in getattr(self, "epoch_plan", {}):
            self.epoch_answer(m["session"])
            return
        if self.pending.get(t) == m["session"]:
            del self.pending[t]
            log(type="answered_unknown", answer=t)
            self.check_goals()
            return
        reply = {"disconnect": "disconnect_ack", "accept": "disconnect", "text": "disconnect", "heartbeat": "disconnect"}
        if t in reply:
            self.send_message({"type": reply[t], "session": m["session"]})

    def accept(self):
        if not self.args.no_features:
            self.send_message(self.features())
        self.send_message({"type": "accept", "heartbeatMs": round(self.interval * 1000), "nick": self.args.nick})

    def on_open(self):
        self.opened_at = time.monotonic()
        self.grid = 1
        self.at("heartbeat", self.interval, self.heartbeat)
        if self.args.extras:
            self.extras()
        if self.args.epochs:
            self.epochs()
        if self.args.send is not None:
            self.send_text(self.args.send)
        self.check_goals()

    def extras(self):
        """Beyond the chat: a path challenge, messages for sessions the peer does not have, and
        every session message PROTOCOL.md says a receiver MUST drop (none may be answered, nor
        harm the session)."""
        token = os.urandom(8)
        self.pending["path_response"] = token
        self.send_payload(b"\x01" + token)
        other = self.session ^ 0x5A5A5A5A
        self.pending["disconnect"] = other  # a heartbeat for no session is answered so
        self.send_message({"type": "heartbeat", "session": other, "ack": 0, "sack": 0, "ackDelay": 0})
        self.pending["disconnect_ack"] = other + 1 & 0xFFFFFFFF
        self.send_message({"type": "disconnect", "session": other + 1 & 0xFFFFFFFF})
        for b in self.args.invalid:
            self.send_payload(b)
        log(type="extras_sent", invalid=len(self.args.invalid))

    def restart(self):
        """Forgets the channel and the session, as a peer that restarted does (same key, same
        address), and connects again: the peer must end the old session (peer_restarted) and
        take the new request as any other. The second session only sends, answers heartbeats
        and closes."""
        log(type="restarting")
        a = self.args
        a.restart, a.expect = False, None
        self.timers.clear()
        self.index, self.peer_index, self.keys, self.confirmed = rand_u32(), None, None, False
        self.cookie, self.send_counter, self.seen = b"\x00" * 16, 0, set()
        self.session = self.state = None
        self.next_seq = self.messages_sent = self.delivered = self.rx_next = 0
        self.in_flight, self.rx_parts, self.received = {}, [], []
        self.disconnects_sent, self.goals_met, self.peer_features = 0, False, False
        self.stats["heartbeats_answered"] = 0
        self.connect(self.addr)

    def freeze(self):
        """Goes silent (sends nothing, answers nothing) and logs when each of the peer's
        heartbeats arrives, in ms after the last packet it sent us; done once the peer has been
        silent for 2 s (it lost us)."""
        self.frozen_at = time.monotonic()
        self.timeline = []
        self.timers.clear()
        self.at("thaw", 2, self.thaw)

    def thaw(self):
        log(type="frozen", heard_ms=self.timeline)
        self.done = 0

    def epochs(self):
        """Messages for unknown sessions (each a `disconnect`, answered with a `disconnect_ack`
        naming it) sealed in chosen epochs: a receiver takes epochs from one below to one above
        the highest it has authenticated (Data packets, Rekeying). Loopback keeps their order,
        so one not answered before a later one's answer was dropped. The same for the replay
        window."""
        E = noise.EPOCH
        c0 = self.send_counter
        keys = [self.keys[0]]
        for _ in range(2):
            keys.append(noise.rekey(keys[-1]))
        # (epoch, counter, answered?)
        # First the replay window of 2048 (Data packets): a jump ahead, the counter 2048 below it
        # (dropped), 2047 below (taken), the jump again (a replay: dropped).
        b = c0 + 3000
        plan = [(0, b, True), (0, b - 2048, False), (0, b - 2047, True), (0, b, False)]
        plan += [(2, 2 * E, False), (0, b + 1, True), (1, E, True), (0, b + 2, True),
                 (2, 2 * E + 1, True), (0, b + 3, False), (1, E + 1, True), (2, 2 * E + 2, True)]
        base = self.session ^ 0x3C3C3C3C
        self.epoch_plan = {}
        for i, (epoch, counter, answered) in enumerate(plan):
            sid = base + i & 0xFFFFFFFF
            self.epoch_plan[sid] = [epoch, counter, answered, False]
            h = wire.data_header(self.peer_index, counter)
            payload = wire.encode_message({"type": "disconnect", "session": sid})
            self.send_raw(h + noise.seal(keys[epoch], counter, h, payload))
        self.epoch_last = sid
        self.pending["epochs"] = True
        # It goes on in epoch 2, past every counter it used.
        self.keys = (keys[2], self.keys[1])
        self.send_counter = 2 * E + 3

    def epoch_answer(self, sid):
        self.epoch_plan[sid][3] = True
        if sid != self.epoch_last:
            return
        wrong = [p for p in self.epoch_plan.values() if p[2] != p[3]]
        log(type="epochs", plan=list(self.epoch_plan.values()), wrong=wrong)
        if wrong:
            self.fail("epochs taken or dropped against the document")
            return
        del self.pending["epochs"]
        self.check_goals()

    def roam(self):
        """Sends from a new port from now on (as after a NAT rebinding), still reading the old one."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.socks.append(self.sock)
        self.roamed = "moved"
        log(type="roaming", port=self.sock.getsockname()[1])
        self.send_message({"type": "heartbeat", **self.ack_fields()})

    def heartbeat(self):
        self.send_message({"type": "heartbeat", **self.ack_fields()})
        self.stats["heartbeats_sent"] += 1
        # The next is due one interval after this one was due (a fixed grid).
        now = time.monotonic()
        self.grid = max(self.grid + 1, int((now - self.opened_at) / self.interval) + 1)
        self.at("heartbeat", self.opened_at + self.grid * self.interval - now, self.heartbeat)
        self.check_goals()  # last: a restart it may start forgets this session's timers

    def send_text(self, text):
        data = text.encode("utf-8")
        parts = [data[i : i + FRAGMENT] for i in range(0, len(data), FRAGMENT)]
        for i, part in enumerate(parts):
            m = {"type": "text", "seq": self.next_seq, "fragmentIndex": i, "fragmentCount": len(parts), "payload": part.hex()}
            self.next_seq += 1
            self.in_flight[m["seq"]] = m
            if not self.lose("text_out"):
                self.send_message({**m, **self.ack_fields()})
        self.messages_sent += 1
        self.at("rto", RTO, self.retransmit)

    def retransmit(self):
        if not self.in_flight:
            return
        for m in self.in_flight.values():
            self.send_message({**m, **self.ack_fields()})
        self.at("rto", RTO, self.retransmit)

    def take_ack(self, m):
        progress = False
        for s in list(self.in_flight):
            if s < m["ack"] or (s > m["ack"] and (m["sack"] >> (s - m["ack"] - 1)) & 1):
                fin = self.in_flight.pop(s)
                progress = True
                if s < m["ack"] and fin["fragmentIndex"] == fin["fragmentCount"] - 1:
                    self.delivered += 1
                    log(type="delivered", seq=s)
        if progress:
            self.at("rto", RTO, self.retransmit) if self.in_flight else self.cancel("rto")
            self.check_goals()

    def on_text(self, m):
        if m["seq"] == self.rx_next and self.state == "open":
            self.rx_next += 1
            self.rx_newest_at = time.monotonic()
            if m["fragmentIndex"] == 0:
                self.rx_parts = []
            self.rx_parts.append(bytes.fromhex(m["payload"]))
            if m["fragmentIndex"] == m["fragmentCount"] - 1:
                text = b"".join(self.rx_parts).decode("utf-8")
                self.received.append(text)
                log(type="text", text=text)
        # Acknowledged at once: in order, out of order (not taken: this peer keeps no gaps), or a copy.
        self.send_message({"type": "ack", **self.ack_fields()})
        self.check_goals()

    def check_goals(self):
        a = self.args
        if self.state != "open":
            return
        if a.send is not None and self.delivered < self.messages_sent:
            return
        if a.expect is not None and a.expect not in self.received:
            return
        if self.stats["heartbeats_answered"] < a.heartbeats or self.pending:
            return
        if a.hold and self.stats["heartbeats_sent"] < a.hold:
            return
        if a.roam and self.roamed is None:
            self.roam()
        if a.roam and self.roamed != "done":
            return
        if not self.goals_met:
            self.goals_met = True
            log(type="goals_met", **self.stats)
        if a.restart:
            self.restart()
        elif a.freeze:
            self.freeze()
        elif not a.wait_close:
            self.close()

    def close(self):
        # Every message we sent is delivered (a goal), so the linger is over at once.
        self.state = "closing"
        self.send_disconnect()

    def send_disconnect(self):
        if self.disconnects_sent == 4:
            self.fail("no disconnect_ack after 4 disconnects")
            return
        self.send_message({"type": "disconnect"})
        self.disconnects_sent += 1
        self.at("disconnect", RTO, self.send_disconnect)

    def finish(self, how):
        if how == "peer_closed" and not self.goals_met:
            self.fail("the peer closed before every goal was met")
            return
        self.state = None
        self.timers.clear()
        log(type="closed", how=how, **self.stats)
        self.done = 0

    def fail(self, why):
        log(type="fail", why=why, state=self.state, **self.stats)
        self.timers.clear()
        self.done = 1

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

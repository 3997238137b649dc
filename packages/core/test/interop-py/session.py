"""One session on the channel: request or accept, text both ways (fragments, acknowledgements,
retransmission), heartbeats on their grid, declines, and the close. PROTOCOL.md's Sessions and
Reliable, ordered text."""

import time

import wire
from common import log, rand_u32

FRAGMENT = 1142
RTO = 1.0  # before any measurement (Reliable, ordered text); this peer does not measure


class Session:
    """The session's part of the Peer: what it says and how it answers."""

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

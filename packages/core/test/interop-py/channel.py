"""The channel: the Noise XX handshake both ways (resends, cookies, repeated inits and finals), and
sealed data packets (counters, the replay window, path challenges). PROTOCOL.md's Packets,
Handshake, Data packets and Roaming."""

import os
import time

import noise
import wire
from common import log


class Channel:
    """One channel to one peer address; the Peer mixes it in with its session."""

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

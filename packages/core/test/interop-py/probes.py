"""Checks beyond a plain chat, each turned on by an option of peer.py: a path challenge and
messages for unknown sessions and the document's invalid messages (--extras), epochs and the
replay window (--epochs), a new port (--roam), a restart (--restart), silence (--freeze)."""

import os
import socket
import time

import noise
import wire
from common import log, rand_u32


class Probes:
    """The optional checks' part of the Peer."""

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

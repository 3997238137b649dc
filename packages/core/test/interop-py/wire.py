"""Packet and session-message layouts of PROTOCOL.md (Packets, Session messages)."""

import struct
import unicodedata

MAGIC = b"NC"
VERSION = 2
INIT, COOKIE_REPLY, RESPONSE, FINAL, DATA, RELAY = 1, 2, 3, 4, 5, 6
MAX_DATAGRAM = 1200
MAX_U53 = 2**53


class Malformed(Exception):
    pass


def header(ptype):
    return MAGIC + bytes([VERSION, ptype])


def encode_init(sender, cookie, msg1):
    return header(INIT) + struct.pack(">I", sender) + cookie + msg1 + b"\x00" * 52


def encode_response(sender, receiver, msg2):
    return header(RESPONSE) + struct.pack(">II", sender, receiver) + msg2


def encode_final(receiver, msg3):
    return header(FINAL) + struct.pack(">I", receiver) + msg3


def encode_cookie_reply(receiver, cookie):
    return header(COOKIE_REPLY) + struct.pack(">I", receiver) + cookie


def data_header(receiver, counter):
    return header(DATA) + struct.pack(">IQ", receiver, counter)


def decode_packet(b):
    """A datagram as a dict, or Malformed. Only the layouts: no channel is looked at."""
    if len(b) < 4 or b[:2] != MAGIC or b[2] != VERSION:
        raise Malformed("header")
    t = b[3]
    if t == INIT:
        if len(b) != 108:
            raise Malformed("init length")
        (sender,) = struct.unpack(">I", b[4:8])
        if sender == 0:
            raise Malformed("index 0")
        return {"type": "init", "sender": sender, "cookie": b[8:24], "noise": b[24:56]}
    if t == COOKIE_REPLY:
        if len(b) != 24:
            raise Malformed("cookie reply length")
        return {"type": "cookie_reply", "receiver": struct.unpack(">I", b[4:8])[0], "cookie": b[8:24]}
    if t == RESPONSE:
        if len(b) != 108:
            raise Malformed("response length")
        sender, receiver = struct.unpack(">II", b[4:12])
        if sender == 0:
            raise Malformed("index 0")
        return {"type": "response", "sender": sender, "receiver": receiver, "noise": b[12:108]}
    if t == FINAL:
        if len(b) != 72:
            raise Malformed("final length")
        return {"type": "final", "receiver": struct.unpack(">I", b[4:8])[0], "noise": b[8:72]}
    if t == DATA:
        if len(b) < 32 or len(b) > 1452:
            raise Malformed("data length")
        receiver, counter = struct.unpack(">IQ", b[4:16])
        if counter >= MAX_U53:
            raise Malformed("counter")
        return {"type": "data", "receiver": receiver, "counter": counter, "ad": b[:16], "ciphertext": b[16:]}
    if t == RELAY:
        if len(b) < 33 or len(b) > 1232:
            raise Malformed("relay length")
        return {"type": "relay"}
    raise Malformed("packet type")


# Session messages ----------------------------------------------------------------------------

TEXT, HEARTBEAT, CONNECT_REQUEST, ACCEPT, DECLINE, DISCONNECT, ACK, DISCONNECT_ACK = range(1, 9)
PRESENCE, FEATURES, STREAM_DATA, STREAM_ACK, STREAM_CREDIT, STREAM_RESET, STREAM_STOP = range(9, 16)
STREAM_LIMIT, PMTU_PROBE = 16, 17
NAMES = {
    1: "text", 2: "heartbeat", 3: "connect_request", 4: "accept", 5: "decline", 6: "disconnect",
    7: "ack", 8: "disconnect_ack", 9: "presence", 10: "features", 11: "stream_data",
    12: "stream_ack", 13: "stream_credit", 14: "stream_reset", 15: "stream_stop",
    16: "stream_limit", 17: "pmtu_probe",
}
CODES = {v: k for k, v in NAMES.items()}
REASONS = ["declined", "busy", "not_allowed", "too_many_sessions"]
ACTIVITIES = ["idle", "typing"]

# Fixed fields after the 4-byte header, per code: (name, struct format).
FIXED = {
    1: [("session", "I"), ("seq", "I"), ("ack", "I"), ("sack", "I"), ("ackDelay", "H"), ("fragmentIndex", "H"), ("fragmentCount", "H")],
    2: [("session", "I"), ("ack", "I"), ("sack", "I"), ("ackDelay", "H")],
    3: [("session", "I"), ("heartbeatMs", "I")],
    4: [("session", "I"), ("heartbeatMs", "I")],
    5: [("session", "I"), ("reason", "B")],
    6: [("session", "I")],
    7: [("session", "I"), ("ack", "I"), ("sack", "I"), ("ackDelay", "H")],
    8: [("session", "I")],
    9: [("session", "I"), ("activity", "B")],
    10: [("session", "I"), ("features", "I"), ("flags", "B"), ("streamWindow", "I"), ("maxStreams", "I")],
    11: [("session", "I"), ("packet", "Q"), ("stream", "I"), ("offset", "Q"), ("fin", "B")],
    12: [("session", "I"), ("largest", "Q"), ("ackDelay", "H"), ("firstRange", "I")],
    13: [("session", "I"), ("packet", "Q"), ("stream", "I"), ("maxOffset", "Q")],
    14: [("session", "I"), ("packet", "Q"), ("stream", "I"), ("finalSize", "Q"), ("code", "H")],
    15: [("session", "I"), ("packet", "Q"), ("stream", "I"), ("code", "H")],
    16: [("session", "I"), ("packet", "Q"), ("maxStreams", "I")],
    17: [("session", "I"), ("packet", "Q")],
}
# A str8 after the fixed fields, with its most bytes.
STRINGS = {3: ("nick", 32), 4: ("nick", 32), 5: ("detail", 200), 9: ("nick", 32)}


def decode_str8(b, at, most):
    if at >= len(b):
        raise Malformed("str8 length missing")
    n = b[at]
    if n > most or at + 1 + n > len(b):
        raise Malformed("str8 length")
    try:
        # "utf-8", not "utf-8-sig": a leading U+FEFF is a character of the string.
        s = b[at + 1 : at + 1 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        raise Malformed("utf-8") from e
    if any(unicodedata.category(c) == "Cc" for c in s):
        raise Malformed("control character")
    return s, at + 1 + n


def decode_message(b):
    if len(b) < 4 or b[:2] != MAGIC or b[2] != VERSION or b[3] not in FIXED:
        raise Malformed("message header")
    code = b[3]
    if len(b) > 1420 or (len(b) > 1168 and code not in (STREAM_DATA, PMTU_PROBE)):
        raise Malformed("message length")
    fields = FIXED[code]
    fmt = ">" + "".join(f for _, f in fields)
    size = struct.calcsize(fmt)
    if len(b) < 4 + size:
        raise Malformed("too short")
    m = {"type": NAMES[code]}
    for (name, _), v in zip(fields, struct.unpack(fmt, b[4 : 4 + size])):
        m[name] = v
    at = 4 + size
    for name, f in fields:
        if f == "Q" and m[name] >= MAX_U53:
            raise Malformed("u64 at or above 2^53")
    if code in STRINGS:
        name, most = STRINGS[code]
        m[name], at = decode_str8(b, at, most)
    rest = b[at:]
    if code == TEXT:
        if not (1 <= len(rest) <= 1142) or m["fragmentCount"] < 1 or m["fragmentIndex"] >= m["fragmentCount"]:
            raise Malformed("text fragment")
        m["payload"] = rest.hex()
    elif code == STREAM_DATA:
        if m["fin"] > 1 or (not rest and m["fin"] != 1) or m["offset"] + len(rest) >= MAX_U53:
            raise Malformed("stream_data")
        m["payload"] = rest.hex()
    elif code == STREAM_ACK:
        if len(rest) % 8 or len(rest) > 31 * 8:
            raise Malformed("stream_ack ranges")
        m["ranges"] = rest.hex()
        stream_ack_ranges(m)  # raises if a range reaches below packet 0
    elif code == PMTU_PROBE:
        if any(rest):
            raise Malformed("probe padding")
        m["padding"] = rest.hex()
    elif rest:
        raise Malformed("trailing bytes")
    if code in (CONNECT_REQUEST, ACCEPT) and m["heartbeatMs"] < 50:
        raise Malformed("heartbeatMs below 50")
    if code == DECLINE:
        if m["reason"] >= len(REASONS):
            raise Malformed("reason")
        m["reason"] = REASONS[m["reason"]]
    if code == PRESENCE:
        if m["activity"] >= len(ACTIVITIES):
            raise Malformed("activity")
        m["activity"] = ACTIVITIES[m["activity"]]
    return m


def stream_ack_ranges(m):
    """(smallest, largest) ranges, highest first, as QUIC's ACK frame: firstRange packets below
    largest, then for each pair gap+1 unacknowledged packets and length+1 acknowledged ones."""
    hi = m["largest"]
    lo = hi - m["firstRange"]
    if lo < 0:
        raise Malformed("range below 0")
    out = [[lo, hi]]
    rest = bytes.fromhex(m.get("ranges", ""))
    for i in range(0, len(rest), 8):
        gap, length = struct.unpack(">II", rest[i : i + 8])
        hi = lo - gap - 2
        lo = hi - length
        if hi < 0 or lo < 0:
            raise Malformed("range below 0")
        out.append([lo, hi])
    return out


def encode_message(m):
    code = CODES[m["type"]]
    fields = FIXED[code]
    vals = []
    for name, _ in fields:
        v = m[name]
        if name == "reason":
            v = REASONS.index(v)
        if name == "activity":
            v = ACTIVITIES.index(v)
        vals.append(v)
    out = MAGIC + bytes([VERSION, code]) + struct.pack(">" + "".join(f for _, f in fields), *vals)
    if code in STRINGS:
        s = m[STRINGS[code][0]].encode("utf-8")
        out += bytes([len(s)]) + s
    if code in (TEXT, STREAM_DATA):
        out += bytes.fromhex(m["payload"])
    if code in (STREAM_ACK, PMTU_PROBE):
        out += bytes.fromhex(m.get("ranges" if code == STREAM_ACK else "padding", ""))
    return out

"""Checks PROTOCOL.md's machine-readable vectors (crypto, packet-invalid, vector, invalid,
stream-ack) with this directory's own code. Prints one line per block kind; exits 1 on any
mismatch. Usage: python3 vectors.py PROTOCOL.md"""

import json
import re
import sys

import noise
import wire


def blocks(text):
    for m in re.finditer(r"^```([a-z-]+)\n(.*?)^```", text, re.S | re.M):
        yield m.group(1), m.group(2)


def fields(body):
    out = {}
    for line in body.splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            out[k.strip()] = v.strip()
    return out


def secret(v):
    m = re.fullmatch(r"([0-9a-f]{2}) × 32", v)
    return bytes([int(m.group(1), 16)]) * 32 if m else bytes.fromhex(v)


def hexbytes(v):
    return bytes.fromhex(v.replace(" ", ""))


def check_crypto(c, fail):
    def eq(name, got):
        if name in c and c[name] != got:
            fail(f"crypto {name}: got {got}, want {c[name]}")
        return name in c

    if "initiator static secret" in c:
        i_s, i_e = secret(c["initiator static secret"]), secret(c["initiator ephemeral secret"])
        r_s, r_e = secret(c["responder static secret"]), secret(c["responder ephemeral secret"])
        eq("initiator static public", noise.public_of(i_s).hex())
        eq("responder static public", noise.public_of(r_s).hex())
        ini = noise.Handshake(True, i_s, i_e)
        res = noise.Handshake(False, r_s, r_e)
        m1 = ini.write_message1()
        res.read_message1(m1)
        m2 = res.write_message2()
        ini.read_message2(m2)
        m3 = ini.write_message3()
        res.read_message3(m3)
        eq("message1", m1.hex())
        eq("message2", m2.hex())
        eq("message3", m3.hex())
        send, recv = ini.split()
        eq("initiator send key", send.hex())
        eq("initiator receive key", recv.hex())
        if res.split() != (recv, send) or res.rs != noise.public_of(i_s) or ini.rs != noise.public_of(r_s):
            fail("crypto: the responder's keys do not mirror the initiator's")
        eq("responder fingerprint", noise.fingerprint(noise.public_of(r_s)))
        check_crypto.handshake = (m1, m2, m3)
    if "init packet" in c:
        m1, m2, _ = check_crypto.handshake
        eq("init packet", wire.encode_init(0x01020304, b"\x00" * 16, m1).hex())
        eq("response packet", wire.encode_response(0x05060708, 0x01020304, m2).hex())
        for name in ("init packet", "response packet"):
            wire.decode_packet(bytes.fromhex(c[name]))
    if "cookie reply packet" in c:
        m1, _, m3 = check_crypto.handshake
        cookie = bytes.fromhex(c["cookie reply packet"])[8:]
        eq("cookie reply packet", wire.encode_cookie_reply(0x01020304, cookie).hex())
        eq("init packet with cookie", wire.encode_init(0x01020304, cookie, m1).hex())
        eq("final packet", wire.encode_final(0x05060708, m3).hex())
        check_crypto.reply_cookie = cookie.hex()
    if "data key" in c:
        key = secret(c["data key"])
        index = int(c["data receiver index"], 16)
        plain = bytes.fromhex(c["data plaintext"])

        def packet(k, counter, payload):
            h = wire.data_header(index, counter)
            return (h + noise.seal(k, counter, h, payload)).hex()

        counter = int(c["data counter"])
        eq("data packet", packet(key, counter, plain))
        key1 = noise.rekey(key)
        eq("rekey of data key", key1.hex())
        eq("data packet (epoch 1)", packet(key1, int(c["data counter (epoch 1)"]), plain))
        token = bytes.fromhex(c["path token"])
        eq("path challenge packet (counter 6)", packet(key, 6, b"\x01" + token))
        eq("path response packet (counter 7)", packet(key, 7, b"\x02" + token))
        eq("keepalive packet (counter 8)", packet(key, 8, b""))
        # Opening again, as a receiver does.
        raw = bytes.fromhex(c["data packet"])
        d = wire.decode_packet(raw)
        if noise.open_(key, d["counter"], d["ad"], d["ciphertext"]) != plain:
            fail("crypto: data packet does not open")
        cs = bytes.fromhex(c["cookie secret"])
        for suffix in ("", " (IPv6)"):
            ip, port = c["cookie peer" + suffix].rsplit(" ", 1)
            address = cookie_address(ip, int(port))
            eq("cookie address" + suffix, address)
            eq("cookie" + suffix, noise.blake2b(address.encode(), 16, cs).hex())
        if getattr(check_crypto, "reply_cookie", c["cookie"]) != c["cookie"]:
            fail("crypto: the cookie reply does not carry the IPv4 cookie")


def cookie_address(ip, port):
    import ipaddress

    a = ipaddress.ip_address(ip)
    if a.version == 6 and a.ipv4_mapped:
        a = a.ipv4_mapped
    return f"{a}:{port}" if a.version == 4 else f"[{a.compressed}]:{port}"


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    failures = []
    counts = {}

    def fail(msg):
        failures.append(msg)

    for kind, body in blocks(text):
        f = fields(body)
        if kind == "crypto":
            check_crypto(f, fail)
        elif kind == "packet-invalid":
            try:
                wire.decode_packet(hexbytes(f["hex"]))
                fail(f"packet-invalid accepted: {f['why']}")
            except wire.Malformed:
                pass
        elif kind == "vector":
            b = hexbytes(f["hex"])
            want = json.loads(f["json"])
            try:
                got = wire.decode_message(b)
            except wire.Malformed as e:
                fail(f"vector {want['type']} rejected: {e}")
                continue
            if got != want:
                fail(f"vector decode: got {got}, want {want}")
            if wire.encode_message(want) != b:
                fail(f"vector encode {want['type']}: got {wire.encode_message(want).hex()}")
        elif kind == "invalid":
            b = hexbytes(f["hex"])
            try:
                m = wire.decode_message(b)
                fail(f"invalid accepted ({f['why']}): {m}")
            except wire.Malformed:
                pass
            # Dropped for the reason given, where it names one a decoder can tell apart.
            if f["why"].startswith("unknown message code") and len(b) > 3 and b[3] in wire.NAMES:
                fail(f"invalid ({f['why']}): code {b[3]} is {wire.NAMES[b[3]]}")
        elif kind == "stream-ack":
            got = wire.stream_ack_ranges(wire.decode_message(hexbytes(f["hex"])))
            if got != json.loads(f["ranges"]):
                fail(f"stream-ack: got {got}, want {f['ranges']}")
        else:
            continue  # rendezvous, relay, files, names, congestion: this peer does not use them
        counts[kind] = counts.get(kind, 0) + 1
    print(json.dumps({"type": "vectors", "checked": counts, "failures": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

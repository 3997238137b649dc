"""Noise_XX_25519_ChaChaPoly_BLAKE2b and the data-packet sealing of PROTOCOL.md (Handshake,
Data packets), written from the document and the Noise specification (revision 34) alone."""

import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PROTOCOL_NAME = b"Noise_XX_25519_ChaChaPoly_BLAKE2b"
PROLOGUE = b"netchat protocol 2"
HASHLEN = 64
EPOCH = 2**24  # counters per key (Data packets, Rekeying)


def blake2b(data, size=64, key=b""):
    return hashlib.blake2b(data, digest_size=size, key=key).digest()


def hmac_blake2b(key, data):
    return hmac.new(key, data, hashlib.blake2b).digest()


def hkdf2(ck, ikm):
    temp = hmac_blake2b(ck, ikm)
    out1 = hmac_blake2b(temp, b"\x01")
    out2 = hmac_blake2b(temp, out1 + b"\x02")
    return out1, out2


def public_of(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def dh(secret, public):
    # cryptography refuses an all-zero result (a low-order point) with ValueError: the message
    # that brought the key then fails, as PROTOCOL.md asks.
    return X25519PrivateKey.from_private_bytes(secret).exchange(X25519PublicKey.from_public_bytes(public))


def nonce(counter):
    """Noise's ChaChaPoly nonce: 4 zero bytes, then the counter as 8 bytes little-endian."""
    return b"\x00" * 4 + struct.pack("<Q", counter)


def seal(key, counter, ad, plaintext):
    return ChaCha20Poly1305(key).encrypt(nonce(counter), plaintext, ad or None)


def open_(key, counter, ad, ciphertext):
    return ChaCha20Poly1305(key).decrypt(nonce(counter), ciphertext, ad or None)


def rekey(key):
    return seal(key, 2**64 - 1, b"", b"\x00" * 32)[:32]


class Handshake:
    """One side of Noise XX with empty payloads. Raises on a message that does not authenticate."""

    def __init__(self, initiator, static_secret, ephemeral_secret):
        self.initiator = initiator
        self.s = static_secret
        self.e = ephemeral_secret
        self.rs = None
        self.re = None
        name = PROTOCOL_NAME.ljust(HASHLEN, b"\x00")
        self.h = name
        self.ck = name
        self.k = None
        self.n = 0
        self.mix_hash(PROLOGUE)

    def mix_hash(self, data):
        self.h = blake2b(self.h + data)

    def mix_key(self, ikm):
        self.ck, temp_k = hkdf2(self.ck, ikm)
        self.k = temp_k[:32]
        self.n = 0

    def encrypt_and_hash(self, plaintext):
        if self.k is None:
            out = plaintext
        else:
            out = seal(self.k, self.n, self.h, plaintext)
            self.n += 1
        self.mix_hash(out)
        return out

    def decrypt_and_hash(self, ciphertext):
        if self.k is None:
            out = ciphertext
        else:
            out = open_(self.k, self.n, self.h, ciphertext)
            self.n += 1
        self.mix_hash(ciphertext)
        return out

    def write_message1(self):
        e_pub = public_of(self.e)
        self.mix_hash(e_pub)
        return e_pub + self.encrypt_and_hash(b"")

    def read_message1(self, msg):
        if len(msg) != 32:
            raise ValueError("message 1 length")
        self.re = msg[:32]
        self.mix_hash(self.re)
        self.decrypt_and_hash(b"")

    def write_message2(self):
        e_pub = public_of(self.e)
        self.mix_hash(e_pub)
        self.mix_key(dh(self.e, self.re))
        enc_s = self.encrypt_and_hash(public_of(self.s))
        self.mix_key(dh(self.s, self.re))
        return e_pub + enc_s + self.encrypt_and_hash(b"")

    def read_message2(self, msg):
        if len(msg) != 96:
            raise ValueError("message 2 length")
        self.re = msg[:32]
        self.mix_hash(self.re)
        self.mix_key(dh(self.e, self.re))
        self.rs = self.decrypt_and_hash(msg[32:80])
        self.mix_key(dh(self.e, self.rs))
        self.decrypt_and_hash(msg[80:96])

    def write_message3(self):
        enc_s = self.encrypt_and_hash(public_of(self.s))
        self.mix_key(dh(self.s, self.re))
        return enc_s + self.encrypt_and_hash(b"")

    def read_message3(self, msg):
        if len(msg) != 64:
            raise ValueError("message 3 length")
        self.rs = self.decrypt_and_hash(msg[:48])
        self.mix_key(dh(self.e, self.rs))
        self.decrypt_and_hash(msg[48:64])

    def split(self):
        """(send key, receive key) for this side: the initiator sends with the first."""
        k1, k2 = hkdf2(self.ck, b"")
        k1, k2 = k1[:32], k2[:32]
        return (k1, k2) if self.initiator else (k2, k1)


def fingerprint(public_key):
    import base64

    digest = blake2b(b"netchat fingerprint v1" + public_key, 32)[:10]
    text = base64.b32encode(digest).decode()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))

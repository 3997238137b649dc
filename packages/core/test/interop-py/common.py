"""What every part of the Python peer shares: its output and its random indices."""

import json
import os
import struct


def log(**event):
    """One JSON object a line on stdout: the peer's whole output."""
    print(json.dumps(event), flush=True)


def rand_u32():
    """A random non-zero u32 (an index, or a session id: PROTOCOL.md's Packets and Session messages)."""
    while True:
        v = struct.unpack(">I", os.urandom(4))[0]
        if v:
            return v

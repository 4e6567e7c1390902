"""A BOLT 8 peer built on pyln-proto, run in its own venv (.cache/pyln-venv) by the tests.

Usage: pyln_peer.py listen PRIVKEY_HEX            (prints {"port": N} and accepts one peer)
       pyln_peer.py connect PRIVKEY_HEX NODE_ID_HEX PORT

After the handshake it sends init, then a ping and an onion_message (type 513) to the
other side, and serves: init -> ignored, pong -> reports, type 32769 -> echoed as 32771,
type 32773 -> stop. Every event is printed as a JSON line for the test to read.
"""

import json
import socket
import struct
import sys

from pyln.proto.wire import LightningServerSocket, PrivateKey, connect


def say(**event):
    print(json.dumps(event), flush=True)


def serve(conn):
    # pyln writes header and body separately: without this, Nagle + delayed ACK add 40 ms.
    conn.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    say(event="handshake", remote=conn.remote_pubkey.serializeCompressed().hex())
    features = (1 << 1 | 1 << 39).to_bytes(5, "big")
    conn.send_message(struct.pack(">HHH", 16, 0, len(features)) + features)
    conn.send_message(struct.pack(">HHH", 18, 7, 0))
    conn.send_message(struct.pack(">H", 513) + b"onion from pyln")
    echoed = 0
    while True:
        message = conn.read_message()
        kind = struct.unpack(">H", message[:2])[0]
        if kind == 16:
            say(event="init", payload=message[2:].hex())
        elif kind == 19:
            say(event="pong", size=struct.unpack(">H", message[2:4])[0])
        elif kind == 32769:
            conn.send_message(struct.pack(">H", 32771) + message[2:])
            echoed += 1
        elif kind == 32773:
            say(event="done", echoed=echoed)
            return


def main():
    mode, key = sys.argv[1], PrivateKey(bytes.fromhex(sys.argv[2]))
    if mode == "listen":
        server = LightningServerSocket(key)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        say(event="listening", port=server.getsockname()[1])
        conn, _ = server.accept()
    else:
        conn = connect(key, bytes.fromhex(sys.argv[3]), "127.0.0.1", int(sys.argv[4]))
    serve(conn)
    conn.connection.close()


if __name__ == "__main__":
    main()

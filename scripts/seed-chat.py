#!/usr/bin/env python3
"""Speaks the Kith socket protocol (docs/protocol.md) for scripts: Python 3 standard library only.

  seed-chat.py HOST:PORT say TOKEN user:ID|group:ID TEXT [TEXT...]
      Connects with TOKEN, sends each TEXT in order (waiting for each ack), reports the
      conversation read up to the last one, then leaves. A TEXT of the form image:UPLOAD_ID
      or file:UPLOAD_ID sends that upload (POST /api/files) as a picture or a file.

  seed-chat.py HOST:PORT stay TOKEN SECONDS PEER_ID [OPENING...] [-- REPLY...]
      Stays connected (online, answering pings) for at most SECONDS or until SIGTERM.
      When the friend PEER_ID comes online, sends them the OPENING lines (prints "opened");
      then answers each text message from them with the next REPLY (prints "replied").

Frames are a 4-byte big-endian length followed by one JSON object.
"""

import json
import signal
import socket
import struct
import sys
import time
import uuid

TIMEOUT = 10.0  # seconds for any single answer from the server


def die(message):
    print(f"seed-chat: {message}", file=sys.stderr)
    sys.exit(1)


class Link:
    def __init__(self, address, token):
        host, _, port = address.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        self.buffer = b""
        self.write({"type": "hello", "version": 1, "token": token})
        welcome = self.read()
        if welcome.get("type") != "welcome":
            die(f"hello refused: {welcome}")
        self.me = welcome["user"]["id"]

    def write(self, frame):
        body = json.dumps(frame).encode("utf-8")
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def _fill(self, n):
        """Waits until the buffer holds n bytes (a timeout leaves the buffer intact)."""
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                die("the server closed the connection")
            self.buffer += chunk

    def read(self):
        """The next frame; answers pings on the way."""
        while True:
            self._fill(4)
            (length,) = struct.unpack(">I", self.buffer[:4])
            self._fill(4 + length)
            body, self.buffer = self.buffer[4:4 + length], self.buffer[4 + length:]
            frame = json.loads(body.decode("utf-8"))
            if frame.get("type") == "ping":
                self.write({"type": "pong", "nonce": frame["nonce"]})
                continue
            if frame.get("type") == "kicked":
                die(f"kicked: {frame.get('message')}")
            return frame

    def send_text(self, target, text):
        kind, _, upload = text.partition(":")
        if kind in ("image", "file") and len(upload) == 36:
            content = {"type": kind, "upload_id": upload}
        else:
            content = {"type": "text", "text": text}
        client_id = str(uuid.uuid4())
        self.write({"type": "send", "client_id": client_id, "to": target, "content": content})
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            frame = self.read()
            if frame.get("type") == "ack" and frame.get("client_id") == client_id:
                return frame
            if frame.get("type") == "error" and frame.get("reference") == client_id:
                die(f"message refused: {frame.get('code')}: {frame.get('message')}")
        die("no ack in time")


def parse_target(spec):
    kind, _, ident = spec.partition(":")
    if kind not in ("user", "group") or not ident.isdigit():
        die(f"bad target {spec!r}: use user:ID or group:ID")
    return {"kind": kind, "id": int(ident)}


def say(address, token, target, texts):
    link = Link(address, token)
    for text in texts:
        ack = link.send_text(parse_target(target), text)
    # Writing in a conversation means having read it, as the desktop client reports.
    link.write({"type": "receipt", "conversation_id": ack["conversation_id"], "kind": "read",
                "seq": ack["seq"]})
    time.sleep(0.2)
    link.sock.close()


def stay(address, token, seconds, peer, openings, replies):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    link = Link(address, token)
    link.sock.settimeout(1.0)
    target = {"kind": "user", "id": peer}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frame = link.read()
        except socket.timeout:
            continue
        kind = frame.get("type")
        if kind == "presence" and frame["user_id"] == peer and frame["online"] and openings:
            time.sleep(1.5)  # let the peer's client settle after connecting
            for text in openings:
                link.send_text(target, text)
            print("opened", flush=True)
            openings = []
        elif kind == "message" and replies:
            message = frame["message"]
            if message.get("sender_id") != peer or message["content"].get("type") != "text":
                continue
            time.sleep(0.8)  # a person takes a moment to answer
            link.send_text(target, replies.pop(0))
            print("replied", flush=True)


def main(argv):
    if len(argv) < 4:
        die(__doc__)
    address, command, token = argv[1], argv[2], argv[3]
    if command == "say" and len(argv) >= 6:
        say(address, token, argv[4], argv[5:])
    elif command == "stay" and len(argv) >= 6 and argv[5].isdigit():
        lines = argv[6:]
        cut = lines.index("--") if "--" in lines else len(lines)
        stay(address, token, float(argv[4]), int(argv[5]), lines[:cut], lines[cut + 1:])
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)

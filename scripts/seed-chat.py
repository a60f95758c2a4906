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

  seed-chat.py HOST:PORT send TOKEN user:ID|group:ID TEXT [reply:SEQ] [mention:USER_ID...]
      Sends one text, a reply to message SEQ of that conversation and/or one that mentions
      the group members USER_ID; prints "CONVERSATION_ID SEQ" of the new message.

  seed-chat.py HOST:PORT edit TOKEN CONVERSATION_ID SEQ TEXT
  seed-chat.py HOST:PORT react TOKEN CONVERSATION_ID SEQ EMOJI [EMOJI...]
  seed-chat.py HOST:PORT forward TOKEN CONVERSATION_ID SEQ user:ID|group:ID
  seed-chat.py HOST:PORT delete TOKEN CONVERSATION_ID SEQ
      Edits one's own text SEQ, puts reactions on message SEQ, forwards message SEQ, or
      deletes a member's message SEQ for everyone (a group's owner or admin). Each waits for
      the server's answer and prints "CONVERSATION_ID SEQ" of the message it stored.

  seed-chat.py HOST:PORT read TOKEN CONVERSATION_ID SEQ
      Reports the conversation read up to SEQ.

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

    def send_text(self, target, text, extra=None):
        kind, _, upload = text.partition(":")
        if kind in ("image", "file") and len(upload) == 36:
            content = {"type": kind, "upload_id": upload}
        else:
            content = {"type": "text", "text": text, **(extra or {})}
        return self.request({"type": "send", "to": target, "content": content})

    def request(self, frame):
        """Sends a frame that the server answers with an ack (a send, edit, react or forward),
        under a fresh client_id; returns the ack."""
        client_id = str(uuid.uuid4())
        self.write({**frame, "client_id": client_id})
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            frame = self.read()
            if frame.get("type") == "ack" and frame.get("client_id") == client_id:
                return frame
            if frame.get("type") == "error" and frame.get("reference") == client_id:
                die(f"message refused: {frame.get('code')}: {frame.get('message')}")
        die("no ack in time")


    def delete(self, conversation_id, seq):
        """Deletes message seq for everyone; returns the recall message the server stores."""
        self.write({"type": "delete", "conversation_id": conversation_id, "seq": seq})
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            frame = self.read()
            if frame.get("type") == "error":
                die(f"delete refused: {frame.get('code')}: {frame.get('message')}")
            if frame.get("type") == "message":
                message = frame["message"]
                content = message["content"]
                if (message["conversation_id"] == conversation_id and content.get("type") == "recall"
                        and content.get("seq") == seq):
                    return message
        die("the delete was not confirmed in time")


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


def one(address, token, command, args):
    """One of the single-action commands (send, edit, react, forward, delete, read)."""
    link = Link(address, token)
    if command == "send" and len(args) >= 2:
        extra = {}
        mentions = []
        for option in args[2:]:
            name, _, value = option.partition(":")
            if name == "reply" and value.isdigit():
                extra["reply_to"] = int(value)
            elif name == "mention" and value.isdigit():
                mentions.append(int(value))
            else:
                die(f"bad option {option!r}: use reply:SEQ or mention:USER_ID")
        if mentions:
            extra["mentions"] = {"user_ids": mentions}
        ack = link.send_text(parse_target(args[0]), args[1], extra)
        done = (ack["conversation_id"], ack["seq"])
    elif len(args) >= 2 and args[0].isdigit() and args[1].isdigit():
        conversation_id, seq, rest = int(args[0]), int(args[1]), args[2:]
        if command == "edit" and len(rest) == 1:
            ack = link.request({"type": "edit", "conversation_id": conversation_id, "seq": seq,
                                "text": rest[0]})
        elif command == "react" and rest:
            for emoji in rest:
                ack = link.request({"type": "react", "conversation_id": conversation_id,
                                    "seq": seq, "emoji": emoji, "on": True})
        elif command == "forward" and len(rest) == 1:
            ack = link.request({"type": "forward", "conversation_id": conversation_id, "seq": seq,
                                "to": parse_target(rest[0])})
        elif command == "delete" and not rest:
            ack = link.delete(conversation_id, seq)
        elif command == "read" and not rest:
            link.write({"type": "receipt", "conversation_id": conversation_id, "kind": "read",
                        "seq": seq})
            ack = {"conversation_id": conversation_id, "seq": seq}
        else:
            die(__doc__)
        done = (ack["conversation_id"], ack["seq"])
    else:
        die(__doc__)
    time.sleep(0.2)
    link.sock.close()
    print(*done)


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
    elif command in ("send", "edit", "react", "forward", "delete", "read"):
        one(address, token, command, argv[4:])
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)

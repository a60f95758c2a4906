#!/usr/bin/env python3
"""Writes message.wav, Kith's new-message sound: two soft bell tones (E6, then B6),
22.05 kHz mono 16-bit, about 0.4 s. Standard library only; run it from this folder."""
import math
import struct
import wave

RATE = 22050


def bell(freq, start, length, total):
    """One decaying tone with a quiet octave partial and a short attack."""
    out = [0.0] * total
    first = int(start * RATE)
    for i in range(int(length * RATE)):
        t = i / RATE
        attack = min(1.0, t / 0.006)
        decay = math.exp(-t * 9.0)
        s = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(2 * math.pi * 2 * freq * t)
        if first + i < total:
            out[first + i] = s * attack * decay
    return out


def main():
    total = int(0.42 * RATE)
    a = bell(1318.5, 0.0, 0.42, total)
    b = bell(1975.5, 0.11, 0.31, total)
    samples = [0.32 * (x + 0.8 * y) for x, y in zip(a, b)]
    with wave.open("message.wav", "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32767)) for s in samples))


if __name__ == "__main__":
    main()

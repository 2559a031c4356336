"""Receivers for the benchmarks, each in its own process (so that they do not share an
interpreter lock with the benchmark's client or with each other):

- ``python bench/receivers.py webhook PORT``: an HTTP/1.1 server on asyncio streams (keep-alive)
  that answers every POST with 204,
- ``python bench/receivers.py smtp PORT``: aiosmtpd, accepting every message.

Each prints one line per receipt on standard output: ``channel recipient reference unix-time``
(the recipient is the webhook's path or the local part of the address; the reference is read
from the webhook's body or the e-mail's subject), and ``ready`` once it listens.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import sys
import threading
import time
from typing import Any

REFERENCE = re.compile(r"TNLD-\d{4}-\d{6}")
FLUSH_SECONDS = 0.02


class Out:
    """Lines written in batches (a flush per receipt would cost more than the receipt)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._flush, daemon=True).start()

    def add(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)

    def _flush(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            with self.lock:
                lines, self.lines = self.lines, []
            if lines:
                sys.stdout.write("".join(lines))
                sys.stdout.flush()


async def webhook(port: int, out: Out) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                at = time.time()
                path = head.split(b" ", 2)[1].decode().strip("/")
                reference = json.loads(body)["data"]["reference"]
                out.add(f"webhook {path} {reference} {at:.6f}\n")
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    out.add("ready\n")
    async with server:
        await server.serve_forever()


class Mailbox:
    def __init__(self, out: Out) -> None:
        self.out = out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        at = time.time()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        match = REFERENCE.search(str(message["Subject"]))
        for recipient in envelope.rcpt_tos:
            reference = match[0] if match else "?"
            self.out.add(f"email {recipient.split('@')[0]} {reference} {at:.6f}\n")
        return "250 OK"


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    out = Out()
    if kind == "webhook":
        asyncio.run(webhook(port, out))
    elif kind == "smtp":
        from aiosmtpd.controller import Controller

        controller = Controller(Mailbox(out), hostname="127.0.0.1", port=port)
        controller.start()
        out.add("ready\n")
        threading.Event().wait()
    else:
        raise SystemExit(f"unknown receiver {kind!r}")


if __name__ == "__main__":
    main()

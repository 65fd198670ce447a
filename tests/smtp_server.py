"""A real SMTP server for tests (aiosmtpd, on a free local port, in a thread): it keeps what it
accepted, and can be told to refuse recipients or messages (550) or to hang (a timeout)."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message the server accepted: envelope sender, recipients and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """What the server does: accept (default), refuse recipients or data, or hang."""

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: bool = False
    refuse_data: bool = False
    hang_seconds: float = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        """Take a recipient, or refuse it with 550."""
        if self.refuse_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        """Keep the message, or refuse it with 550, or hang before answering."""
        if self.hang_seconds:
            await asyncio.sleep(self.hang_seconds)
        if self.refuse_data:
            return "550 5.7.1 message refused by policy"
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A local TCP port nothing listens on (just closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """Start with `start()`, stop with `stop()`; `handler` says how it answers."""

    def __init__(self) -> None:
        self.handler = Handler()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        """Serve on the port (again, after a stop); returns when it answers."""
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     decode_data=False)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop serving (the port closes)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, n: int, seconds: float = 5.0) -> list[Received]:
        """The accepted messages, once there are `n` (or after `seconds`)."""
        deadline = time.monotonic() + seconds
        while len(self.handler.received) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.handler.received

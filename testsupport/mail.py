"""A real SMTP server that keeps what it receives: the tests read it, `make run` writes it to a folder.

aiosmtpd speaks SMTP on a port of its own; the app sends to it through Flask-Mailman exactly as it would to a
company's mail relay. `python -m testsupport.mail --port 8025 --dir var/mail` is the developer's mail sink:
every message lands in that folder as an .eml file any mail program opens.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class Inbox:
    """The aiosmtpd handler: every message accepted, parsed, kept (and written to `folder` if given)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder, self.messages, self._lock = folder, [], threading.Lock()
        self.refuse: str | None = None  # an SMTP reply such as "550 mailbox unavailable", to refuse with

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802  (aiosmtpd's name)
        if self.refuse:
            return self.refuse
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / f"{time.time_ns()}.eml").write_bytes(envelope.content)
        return "250 Message accepted"

    def take(self) -> list[EmailMessage]:
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


class MailSink:
    """The server on 127.0.0.1:`port`; it may be stopped (a mail server that is down) and started again on the
    same port with the same inbox."""

    def __init__(self, port: int, folder: Path | None = None) -> None:
        self.inbox = Inbox(folder)
        self.port = port
        self.controller: Controller | None = None

    def start(self) -> MailSink:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def main() -> None:
    parser = argparse.ArgumentParser(description="Keep every message sent to 127.0.0.1:PORT in DIR as .eml files.")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    sink = MailSink(args.port, args.dir).start()
    print(f"Mail sink on 127.0.0.1:{args.port}: messages are written to {args.dir}/", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sink.stop()


if __name__ == "__main__":
    main()

"""An SMTP server for Dossier's email tests: accepts mail on 127.0.0.1:PORT
and writes each message into the Maildir MAILDIR, so a test reads what
arrived. Recipients starting with `reject` are refused for good (550) and
those starting with `later` for now (451), so tests see both failures.

    python smtp-sink.py PORT MAILDIR
"""

import threading
import mailbox
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, maildir):
        self.box = mailbox.Maildir(maildir, create=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.lower()
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.box.add(envelope.original_content)
        return "250 Message accepted for delivery"


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

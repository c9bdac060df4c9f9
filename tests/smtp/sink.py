"""A real SMTP server for Tessera's tests: aiosmtpd on HOST:PORT, one JSON file per
received message in OUT (written under a temporary name, then renamed).

Each file holds the envelope (mail_from, rcpt_tos), the raw message, its headers in order,
and the body decoded by Python's own e-mail parser (transfer encoding and charset undone),
so the tests read what a mail client would show, not what Tessera meant to send.

    python sink.py HOST PORT OUT [USER:PASSWORD]

With USER:PASSWORD the server requires SMTP AUTH (PLAIN or LOGIN) before MAIL FROM and
accepts only that pair (over plain TCP: the tests run on 127.0.0.1).
"""

import email
import email.policy
import json
import os
import sys
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if message.is_multipart():
            body = None
        else:
            body = message.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "raw": raw.decode("utf-8", "replace"),
            "headers": [[name, str(value)] for name, value in message.items()],
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "multipart": message.is_multipart(),
            "body": body,
        }
        name = "%d-%s" % (time.time_ns(), uuid.uuid4().hex)
        tmp = os.path.join(self.out, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.out, name + ".json"))
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode("utf-8")
        self.password = password.encode("utf-8")

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        return AuthResult(success=ok, handled=False)


def main():
    host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    auth = {}
    if len(sys.argv) > 4:
        user, password = sys.argv[4].split(":", 1)
        auth = {
            "authenticator": Authenticator(user, password),
            "auth_required": True,
            "auth_require_tls": False,
        }
    controller = Controller(Sink(out), hostname=host, port=port, **auth)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()

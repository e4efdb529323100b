"""Signed webhooks: a JSON body (or, for phone-push services, plain text) POSTed with an
HMAC-SHA256 signature over the timestamp and the body, and the delivery id (the same on every
retry, so a receiver can drop a repeat)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request

from dashboard.alerts.message import Message
from dashboard.alerts.settings import Webhook

TIMEOUT = 15.0
SIGNATURE_HEADER = "X-Filterd-Signature"  # sha256=<hex of HMAC(key, timestamp + "." + body)>


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return (
        "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )


def send(hook: Webhook, message: Message, uid: str) -> None:
    """POST one message; raises OSError (urllib errors included) when it is not accepted."""
    if hook.format == "plain":
        body = message.text.encode()
        headers = {"Content-Type": "text/plain; charset=utf-8", "Title": message.subject}
    else:
        body = json.dumps({"delivery": uid, **message.payload}, sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
    timestamp = str(int(time.time()))
    headers.update(
        {
            "X-Filterd-Delivery": uid,
            "X-Filterd-Timestamp": timestamp,
            SIGNATURE_HEADER: signature(hook.secret(), timestamp, body),
            "User-Agent": "filterd-alerts",
        }
    )
    request = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"the webhook answered HTTP {response.status}")

"""Webhooks against a real HTTP receiver process that checks the HMAC-SHA256 signature."""

from __future__ import annotations

import json
import urllib.error

import pytest

from dashboard.alerts import webhook_sender
from dashboard.alerts.message import compose
from dashboard.alerts.settings import Webhook
from dashboard.data.alert_outbox import Queued
from tests.support.filterd_process import free_port
from tests.support.webhook_receiver import WebhookReceiver

CONTENT = {
    "kind": "block.high_risk",
    "severity": "high",
    "title": "Sam: self-harm site blocked",
    "child": "Sam",
    "category": "self-harm",
    "device": "Sam's phone",
    "time": "23:00",
    "date": "Mon 23 Nov",
    "link": "https://filterd.home.arpa/blocked/?child=sam#q2",
}
ALERT = Queued(1, "delivery-1", "webhook", "", 1, CONTENT, False, 0, 0.0)


@pytest.fixture
def receiver(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("right key\n")
    secret.chmod(0o600)
    process = WebhookReceiver(free_port(), secret, tmp_path / "out.jsonl").start()
    yield process
    process.stop()


def hook(receiver, tmp_path, key: str, form: str = "json") -> Webhook:
    path = tmp_path / f"key-{key.replace(' ', '-')}"
    path.write_text(key + "\n")
    path.chmod(0o600)
    return Webhook(receiver.url, path, form)


def test_a_signed_json_delivery_is_accepted(receiver, tmp_path):
    webhook_sender.send(hook(receiver, tmp_path, "right key"), compose([ALERT]), "delivery-1")
    (got,) = receiver.deliveries()
    assert got["valid"] and got["delivery"] == "delivery-1"
    body = json.loads(got["body"])
    assert body["alerts"][0]["title"] == "Sam: self-harm site blocked"


def test_the_plain_form_for_phone_push_services_is_text_with_a_title(receiver, tmp_path):
    webhook_sender.send(hook(receiver, tmp_path, "right key", "plain"), compose([ALERT]), "d-2")
    (got,) = receiver.deliveries()
    assert got["valid"] and got["content_type"].startswith("text/plain")
    assert got["title"] == "Sam: self-harm site blocked"
    assert got["body"].startswith("Sam: self-harm site blocked at 23:00")


def test_a_wrong_key_is_refused_by_the_receiver_and_raises_for_a_retry(receiver, tmp_path):
    with pytest.raises(urllib.error.HTTPError):
        webhook_sender.send(hook(receiver, tmp_path, "wrong key"), compose([ALERT]), "d-3")
    (got,) = receiver.deliveries()
    assert not got["valid"]

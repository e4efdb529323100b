"""Email through any SMTP server (smtplib): implicit TLS, STARTTLS or plain on loopback, with
login when a username is set. The Message-ID is the alert's own, the same on every retry."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from dashboard.alerts.message import Message
from dashboard.alerts.settings import EmailSettings

TIMEOUT = 20.0


def build(settings: EmailSettings, to: str, message: Message, uid: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    domain = settings.sender.rpartition("@")[2] or "filterd.home.arpa"
    mail["Message-ID"] = f"<{uid}@{domain}>"
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    if message.attachment is not None:
        name, data = message.attachment
        mail.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return mail


def send(settings: EmailSettings, to: str, message: Message, uid: str) -> None:
    """Hand one message to the server; raises OSError or smtplib.SMTPException on failure."""
    mail = build(settings, to, message, uid)
    context = ssl.create_default_context()
    if settings.security == "tls":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=TIMEOUT, context=context
        )
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
    with server:
        if settings.security == "starttls":
            server.starttls(context=context)
        if settings.username:
            server.login(settings.username, settings.password())
        server.send_message(mail)

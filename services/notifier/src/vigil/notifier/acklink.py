"""Signed, expiring acknowledgement links: ``{public_url}/ack/{token}``.

The token carries the alert id, the receiver the link was sent to and an expiry, and an
HMAC-SHA256 of the three under ``VIGIL_NOTIFIER_ACK_SECRET``: it cannot be forged, altered
(another alert, a later expiry) or used after it expires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

_SEP = "\n"


class LinkError(ValueError):
    """The token is malformed, tampered with or expired; the message says which."""


@dataclass(frozen=True)
class AckClaim:
    """What a valid token says: acknowledge ``alert_id`` on behalf of ``receiver``."""

    alert_id: str
    receiver: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class AckLinks:
    """Signs and checks ack tokens; ``ttl`` seconds of validity from when a message is sent."""

    secret: str
    public_url: str
    ttl: float = 86_400.0

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.secret.encode(), payload, hashlib.sha256).digest()

    def token(self, alert_id: str, receiver: str, now: float) -> str:
        """A token valid until ``now + ttl``."""
        payload = _SEP.join([alert_id, receiver, str(int(now + self.ttl))]).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def url(self, alert_id: str, receiver: str, now: float) -> str:
        """The full link put in a message."""
        return f"{self.public_url.rstrip('/')}/ack/{quote(self.token(alert_id, receiver, now))}"

    def verify(self, token: str, now: float) -> AckClaim:
        """The claim of a valid token; raises :class:`LinkError` saying what is wrong."""
        body, dot, signature = token.partition(".")
        try:
            payload, mac = _unb64(body), _unb64(signature)
            alert_id, receiver, expiry = payload.decode().split(_SEP)
            expires_at = int(expiry)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise LinkError("malformed ack link (copy the whole link from the message)") from None
        if not dot or not hmac.compare_digest(mac, self._mac(payload)):
            raise LinkError("invalid ack link signature (altered, or from another deployment)")
        if now >= expires_at:
            raise LinkError(f"ack link expired {int(now - expires_at)} s ago; acknowledge in "
                            "the API or with `vigil notifier ack`")
        return AckClaim(alert_id, receiver, expires_at)

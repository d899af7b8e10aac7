"""Signed ack links: valid until they expire, useless once altered or signed elsewhere."""

from __future__ import annotations

import pytest

from services.notifier.tests.notifier_testkit import NOON
from vigil.notifier.acklink import AckClaim, AckLinks, LinkError

LINKS = AckLinks("s3cret-s3cret-s3cret", "https://vigil.example.org/", ttl=600)


def test_a_link_acks_its_alert_for_its_receiver_until_it_expires() -> None:
    url = LINKS.url("a-1/x", "nurse", NOON)
    assert url.startswith("https://vigil.example.org/ack/")
    token = LINKS.token("a-1/x", "nurse", NOON)
    assert LINKS.verify(token, NOON + 599) == AckClaim("a-1/x", "nurse", int(NOON + 600))
    with pytest.raises(LinkError, match=r"^ack link expired 0 s ago"):
        LINKS.verify(token, NOON + 600)
    with pytest.raises(LinkError, match=r"^ack link expired 3600 s ago"):
        LINKS.verify(token, NOON + 4200)


def test_altered_tokens_are_refused() -> None:
    token = LINKS.token("a1", "nurse", NOON)
    other = LINKS.token("a2", "nurse", NOON)
    body, sig = token.split(".")
    # Another alert's payload under this signature, and this payload under another's.
    for forged in (f"{other.split('.')[0]}.{sig}", f"{body}.{other.split('.')[1]}"):
        with pytest.raises(LinkError, match="invalid ack link signature"):
            LINKS.verify(forged, NOON)
    elsewhere = AckLinks("another-secret-entirely", "https://x")
    with pytest.raises(LinkError, match="invalid ack link signature"):
        elsewhere.verify(token, NOON)


@pytest.mark.parametrize("token", ["", "nodot", "!!!.???", "YQ.YQ", "a.b.c"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(LinkError, match=r"malformed ack link|invalid ack link signature"):
        LINKS.verify(token, NOON)

"""A thin wrapper over paho-mqtt 2.x: MQTT 5, persistent sessions, manual acknowledgements.

Services see :class:`Message` and :class:`Client`; paho's types stay inside this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vigil.core.config import MqttUrl
from vigil.core.message import Message

OnMessage = Callable[[Message], None]


class MqttError(RuntimeError):
    """The broker refused us or could not be reached in time."""


class Publish:
    """Handle on one publish; QoS 1 publishes are done when the broker acknowledged them."""

    __slots__ = ("_info",)

    def __init__(self, info: paho.MQTTMessageInfo) -> None:
        self._info = info

    @property
    def done(self) -> bool:
        """True once the broker has acknowledged the message (QoS 0: once sent)."""
        try:
            return bool(self._info.is_published())
        except RuntimeError:
            # Published while disconnected: paho keeps QoS 1/2 messages and sends them after
            # the reconnect, but is_published() keeps raising for the first attempt's error.
            return bool(self._info._published)

    @property
    def mid(self) -> int:
        """The packet id paho gave the message."""
        return int(self._info.mid)

    def wait(self, timeout: float | None = None) -> None:
        """Block until acknowledged (across reconnects); TimeoutError after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("publish not acknowledged in time")
            time.sleep(0.001)


def _no_delay(_c: paho.Client, _u: object, sock: object) -> None:
    """Nagle plus the peer's delayed ACK holds a small publish or PUBACK ~40 ms: disable it."""
    setsockopt = getattr(sock, "setsockopt", None)
    if setsockopt is not None:
        with contextlib.suppress(OSError):
            setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Waiter:
    """One :meth:`Client.wait_published` call: woken when its last publish is acknowledged."""

    __slots__ = ("future", "left", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.left = 0

    def wake(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class Client:
    """An MQTT 5 client with a persistent session that resubscribes after every reconnect."""

    def __init__(
        self,
        url: MqttUrl,
        client_id: str,
        *,
        clean_start: bool = False,
        session_expiry: int = 86_400,
        manual_ack: bool = False,
        on_message: OnMessage | None = None,
        will: tuple[str, bytes, bool] | None = None,
        receive_maximum: int | None = None,
    ) -> None:
        self.url = url
        self._subs: list[tuple[str, int]] = []
        self._on_message = on_message
        self._connected = threading.Event()
        self._clean_start = clean_start
        self._session_expiry = session_expiry
        self._receive_maximum = receive_maximum
        self.connects = 0
        self._waiters: dict[int, _Waiter] = {}
        self._waiters_lock = threading.Lock()
        c = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5,
            manual_ack=manual_ack,
        )
        if url.username:
            c.username_pw_set(url.username, url.password)
        if url.tls:
            c.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        if will:
            c.will_set(will[0], will[1], qos=1, retain=will[2])
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(min_delay=1, max_delay=10)
        c.on_socket_open = _no_delay
        c.on_connect = self._handle_connect
        c.on_disconnect = self._handle_disconnect
        c.on_message = self._handle_message
        c.on_publish = self._handle_publish
        self._c = c

    def on_message(self, callback: OnMessage) -> None:
        """Set the callback (called on the network thread: keep it short)."""
        self._on_message = callback

    def connect(self, timeout: float = 15.0) -> None:
        """Connect and start the network thread; block until the broker accepted us."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._session_expiry
        if self._receive_maximum:
            props.ReceiveMaximum = self._receive_maximum
        self._c.connect_async(
            self.url.host, self.url.port, keepalive=30, clean_start=self._clean_start,
            properties=props,
        )
        self._c.loop_start()
        if not self._connected.wait(timeout):
            self._c.loop_stop()
            raise MqttError(f"no CONNACK from {self.url.host}:{self.url.port} in {timeout:g}s")

    @property
    def connected(self) -> bool:
        """Whether the client is connected right now."""
        return self._connected.is_set()

    def subscribe(self, topic_filter: str, qos: int = 1) -> None:
        """Subscribe now and after every reconnect."""
        self._subs.append((topic_filter, qos))
        if self._connected.is_set():
            self._c.subscribe(topic_filter, qos)

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
        user_properties: Iterable[tuple[str, str]] = (), correlation_data: bytes | None = None,
        response_topic: str | None = None,
    ) -> Publish:
        """Queue a publish; thread-safe."""
        props = None
        up = list(user_properties)
        if up or correlation_data is not None or response_topic:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if up:
                props.UserProperty = up
            if correlation_data is not None:
                props.CorrelationData = correlation_data
            if response_topic:
                props.ResponseTopic = response_topic
        return Publish(self._c.publish(topic, payload, qos=qos, retain=retain, properties=props))

    async def wait_published(self, publishes: Iterable[Publish], recheck_s: float = 0.5,
                             ) -> None:
        """Wait until every publish is acknowledged, woken by the acknowledgements.

        Publishes queued while disconnected are resent after the reconnect and count once
        acknowledged. Every ``recheck_s`` the handles are polled as well, a safety net.
        """
        pending = [p for p in publishes if not p.done]
        if not pending:
            return
        waiter = _Waiter(asyncio.get_running_loop())
        with self._waiters_lock:
            for p in pending:
                self._waiters[p.mid] = waiter
            waiter.left = len(pending)
        while True:
            with self._waiters_lock:  # acknowledged before we registered, or missed
                for p in pending:
                    if p.done and self._waiters.get(p.mid) is waiter:
                        del self._waiters[p.mid]
                        waiter.left -= 1
                if waiter.left <= 0:
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter.future), recheck_s)

    def ack(self, message: Message) -> None:
        """Acknowledge a message received with manual acks (after its effects are durable)."""
        if message.qos > 0:
            self._c.ack(message.mid, message.qos)

    def close(self) -> None:
        """Disconnect cleanly (no last will) and stop the network thread."""
        self._c.disconnect()
        self._c.loop_stop()
        self._connected.clear()

    def _handle_connect(self, client: paho.Client, _u: object, _f: object, rc: object,
                        _p: object) -> None:
        if getattr(rc, "is_failure", False):
            return
        self.connects += 1
        for topic_filter, qos in self._subs:
            client.subscribe(topic_filter, qos)
        self._connected.set()

    def _handle_publish(self, _c: paho.Client, _u: object, mid: int, _rc: object,
                        _p: object) -> None:
        with self._waiters_lock:
            waiter = self._waiters.pop(mid, None)
            if waiter is None:
                return
            waiter.left -= 1
            if waiter.left > 0:
                return
        waiter.loop.call_soon_threadsafe(waiter.wake)

    def _handle_disconnect(self, *_args: object) -> None:
        self._connected.clear()

    def _handle_message(self, _c: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
        if self._on_message is None:
            return
        props = getattr(m, "properties", None)
        self._on_message(Message(
            topic=m.topic,
            payload=bytes(m.payload),
            qos=m.qos,
            mid=m.mid,
            dup=bool(m.dup),
            retain=bool(m.retain),
            received_ns=time.monotonic_ns(),
            user_properties=tuple(getattr(props, "UserProperty", ()) or ()),
            response_topic=getattr(props, "ResponseTopic", None),
            correlation_data=getattr(props, "CorrelationData", None),
        ))

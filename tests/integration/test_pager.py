"""The local stack's pager inbox (`vigil.cli.pager`) and its demo on-call setup: the notifier,
configured exactly as `vigil up` configures it, pages a critical alert into the inbox file at
once, with a signed ack link; `vigil pages` shows it; bad posts are refused and not kept."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.integration.test_notifier_restart import fire
from tests.integration.test_notifier_support import free_port, wait_for
from vigil.cli.main import app
from vigil.cli.processes import ServiceProcess
from vigil.cli.stack import LocalStack
from vigil.notifier import config
from vigil.notifier.settings import NotifierSettings

pytestmark = pytest.mark.integration


def pager_process(home: Path) -> ServiceProcess:
    port = free_port()
    proc = ServiceProcess("pager", home, "vigil.cli.pager", {}, port,
                          args=("--port", str(port), "--out", str(home / "pages.jsonl")))
    proc.start(timeout=10)
    return proc


def post(port: int, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_pager_keeps_json_pages_and_refuses_the_rest(tmp_path: Path) -> None:
    pager = pager_process(tmp_path)
    try:
        assert post(pager.port, "/ward-desk", b'{"title": "HIGH p1: SpO2 low"}') == (
            200, {"status": "kept"})
        assert post(pager.port, "/x", b"{not json")[0] == 400
        assert post(pager.port, "/x", b"[1, 2]") == (400, {"error": "expected a JSON object"})
        assert post(pager.port, "/charge-nurse", b'{"title": "t2", "message": "m"}')[0] == 200
    finally:
        pager.stop()
    pages = [json.loads(line) for line in (tmp_path / "pages.jsonl").read_text().splitlines()]
    assert [(p["receiver"], p["title"]) for p in pages] == [
        ("ward-desk", "HIGH p1: SpO2 low"), ("charge-nurse", "t2")]
    assert all(abs(p["received_at"] - time.time()) < 60 for p in pages)

    env = {"VIGIL_STATE_DIR": str(tmp_path)}
    out = CliRunner().invoke(app, ["pages", "-n", "1"], env=env)
    assert out.exit_code == 0
    assert "→ charge-nurse: t2" in out.output
    assert "SpO2" not in out.output
    empty = CliRunner().invoke(app, ["pages"], env={"VIGIL_STATE_DIR": str(tmp_path / "new")})
    assert "no pages yet" in empty.output


def test_the_demo_setup_pages_a_critical_alert_into_the_inbox_at_once(
        stack: Any, tmp_path: Path) -> None:
    local = LocalStack(tmp_path)
    pager = pager_process(tmp_path)
    try:
        _demo(stack, tmp_path, local, pager)
    finally:
        pager.stop()


def _demo(stack: Any, tmp_path: Path, local: LocalStack, pager: ServiceProcess) -> None:
    port = free_port()
    ports = {"pager": pager.port, "notifier": port}
    assert "VIGIL_NOTIFIER_ACK_SECRET" not in local.notifier_env(ports)  # status/down write nothing
    local.write_notifier_files(ports)
    demo = local.notifier_env(ports)
    # The file `vigil up` writes is a valid routing file, and the settings take the secret.
    routing = config.load(Path(demo["VIGIL_NOTIFIER_ROUTING_FILE"]))
    assert set(routing.receivers) == {"ward-desk", "charge-nurse"}
    assert NotifierSettings(**{k.removeprefix("VIGIL_").lower(): v for k, v in demo.items()}
                            ).notifier_ack_secret is not None
    local.write_notifier_files(ports)  # a second `vigil up` keeps the secret
    assert demo == local.notifier_env(ports)

    client_id = f"notifier-{uuid.uuid4().hex[:8]}"
    notifier = ServiceProcess("notifier", tmp_path / "n", "vigil.notifier", {
        **stack.env, **demo, "VIGIL_NOTIFIER_HTTP_PORT": str(port),
        "VIGIL_NOTIFIER_CLIENT_ID": client_id, "VIGIL_INGEST_CLIENT_ID": client_id}, port)
    stack.extra.append(notifier)
    notifier.start(timeout=10)
    fire(stack, "a-demo-1", "p-demo")
    assert wait_for(lambda: local.pages_file.exists() and local.pages_file.read_text(), 15)
    (page,) = [json.loads(line) for line in local.pages_file.read_text().splitlines()]
    assert (page["receiver"], page["title"]) == ("ward-desk", "CRITICAL p-demo: SpO2 low")
    assert f"Ack: http://127.0.0.1:{port}/ack/" in page["message"]

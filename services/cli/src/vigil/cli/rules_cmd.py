"""`vigil rules …`: validate rule files, show a patient's effective rules, backtest a rule;
and `vigil bench alerts` (reading publish -> AlertEvent latency under load)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Alert rules: check, list, backtest.", no_args_is_help=True)
console = Console(width=160)


def _parse_time(value: str, name: str) -> datetime:
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use ISO 8601, e.g. 2026-11-23T08:00:00+00:00",
                                 param_hint=name) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _rules(path: Path | None) -> list[Any]:
    from vigil.rules.load import RuleError, load_file

    try:
        return load_file(path)
    except RuleError as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}", highlight=False)
        raise typer.Exit(1) from None


@app.command("check")
def check(files: Annotated[list[Path], typer.Argument(help="Rule files to validate")]) -> None:
    """Validate rule files; every problem names the file, the rule and the field."""
    from vigil.rules.load import RuleError, load_file

    failed = False
    for path in files:
        try:
            rules = load_file(path)
        except RuleError as exc:
            failed = True
            for problem in exc.problems:
                console.print(f"[red]{problem}", highlight=False)
            continue
        console.print(f"{path}: ok, {len(rules)} rules", highlight=False)
    if failed:
        raise typer.Exit(1)


def _describe(rule: Any) -> tuple[str, str, str]:
    def sig(s: Any) -> str:
        parts = [s.kind, s.metric or ""]
        for name in ("agg", "window", "lookback", "horizon", "method", "expected", "max_age"):
            v = getattr(s, name)
            if v is not None:
                parts.append(f"{name}={v:g}s" if isinstance(v, float) else f"{name}={v}")
        return " ".join(p for p in parts if p)

    def cmp(c: Any) -> str:
        sym = {"above": ">", "below": "<", "at_least": ">=", "at_most": "<="}[c.op]
        return f"{sym} {c.bound:g}"

    if rule.conditions:
        word = " OR " if rule.any else " AND "
        return ("composite", word.join(f"{sig(c)} {cmp(c)}" for c in rule.conditions),
                rule.severity or "")
    return (sig(rule.signal), ", ".join(f"{lv.severity}: {cmp(lv)}" for lv in rule.levels), "")


def _overrides(patient: str) -> list[Any]:
    from vigil.cli import settings as cli_settings
    from vigil.rules import store

    async def query(conn: Any) -> list[Any]:
        return [o for o in await store.overrides(conn) if o.patient_id == patient]

    return cli_settings.with_db(query)


@app.command("list")
def list_rules(
    patient: Annotated[str, typer.Option(help="Patient whose effective rules to show")],
    rules_file: Annotated[Path | None, typer.Option(
        "--file", help="Global rule file (default: the packaged default rules)")] = None,
) -> None:
    """The rules in force for a patient: global rules with the patient's overrides applied."""
    from vigil.rules.ruleset import RuleSet

    rules = _rules(rules_file)
    overrides = _overrides(patient)
    ruleset = RuleSet(rules, overrides)
    own = {o.rule: o for o in overrides}
    table = Table("rule", "source", "signal", "levels", "for", "hysteresis", "version",
                  title=f"effective rules for {patient}")
    for rule in ruleset.effective_rules(patient):
        source = "override" if rule.name in own else "global"
        if rule.name not in {r.name for r in rules}:
            source = "patient"
        signal, levels, severity = _describe(rule)
        table.add_row(rule.name, source, signal, f"{levels} {severity}".strip(),
                      f"{rule.for_:g}s", f"{rule.hysteresis:g}", rule.version)
    for name, o in sorted(own.items()):
        if not o.enabled:
            table.add_row(name, "override", "[dim]disabled for this patient", "", "", "", "")
    console.print(table)


def _history(patient: str, metrics: list[str], start: datetime, end: datetime) -> list[Any]:
    from vigil.cli import settings as cli_settings

    async def query(conn: Any) -> list[Any]:
        return list(await conn.fetch(
            "SELECT time, metric, value, device_id FROM readings WHERE patient_id = $1"
            " AND metric = ANY($2::text[]) AND time >= $3 AND time <= $4 ORDER BY time",
            patient, metrics, start, end))

    return cli_settings.with_db(query)


@app.command("backtest")
def backtest(
    rule: Annotated[str, typer.Option(help="Rule name (from the file, or an override)")],
    patient: Annotated[str, typer.Option(help="Patient whose stored readings to replay")],
    start: Annotated[str, typer.Option("--from", help="ISO 8601 start")],
    end: Annotated[str, typer.Option("--to", help="ISO 8601 end")],
    rules_file: Annotated[Path | None, typer.Option(
        "--file", help="Rule file holding the rule (default: the packaged default rules)")] = None,
    overrides: Annotated[bool, typer.Option(help="Apply the patient's overrides")] = True,
) -> None:
    """Replay stored readings through a rule and print when it would have fired and resolved."""
    from vigil.rules.events import to_dt
    from vigil.rules.kinds import lookback_s
    from vigil.rules.ruleset import RuleSet
    from vigil.rules.state import Engine, Reading

    t0, t1 = _parse_time(start, "--from"), _parse_time(end, "--to")
    if t1 <= t0:
        raise typer.BadParameter("must be after --from", param_hint="--to")
    rules = _rules(rules_file)
    own = _overrides(patient) if overrides else []
    ruleset = RuleSet(rules, own)
    chosen = next((r for r in ruleset.effective_rules(patient) if r.name == rule), None)
    if chosen is None:
        names = ", ".join(r.name for r in ruleset.effective_rules(patient))
        console.print(f"[red]no rule {rule!r} in force for {patient} (rules: {names})")
        raise typer.Exit(1)
    if any(s.kind == "stale" for s in chosen.signals()):
        console.print("[yellow]stale-data rules depend on arrival times; not backtested")
        raise typer.Exit(1)
    warmup = max(lookback_s(s) for s in chosen.signals()) + chosen.for_
    rows = _history(patient, sorted(chosen.metrics()), t0 - timedelta(seconds=warmup), t1)
    engine = Engine(RuleSet([chosen]), max_future_skew_s=10**9)
    table = Table("time", "event", "severity", "value", "alert id", "summary",
                  title=f"backtest {rule} for {patient}, {t0.isoformat()} .. {t1.isoformat()}")
    count = 0
    for r in rows:
        ms = int(r["time"].timestamp() * 1000)
        for t in engine.process(patient, [Reading(ms, r["metric"], r["value"],
                                                  r["device_id"])], ms):
            if to_dt(t.at_ms) < t0:
                continue
            count += 1
            table.add_row(to_dt(t.at_ms).isoformat(), t.kind, t.severity,
                          "" if t.value is None else f"{t.value:.4g}", t.alert_id[:12],
                          t.summary)
    console.print(table)
    console.print(f"{len(rows)} readings replayed, {count} transitions", highlight=False)


def _bench_rules(path: Path) -> None:
    """The default rules without the wall-clock ones, plus the probe rule."""
    from importlib import resources

    import yaml

    from vigil.rules.bench import PROBE_RULE
    from vigil.rules.load import DEFAULT_RULES

    data = yaml.safe_load(resources.files("vigil.rules").joinpath(DEFAULT_RULES).read_text())
    data["rules"] = [r for r in data["rules"]
                     if r.get("kind") not in ("stale", "offline")] + [PROBE_RULE]
    path.write_text(yaml.safe_dump(data))


def _bench_run(home: Path, url: str, db_url: str, opts: dict[str, Any]) -> dict[str, Any]:
    from vigil.cli.pager import serve
    from vigil.cli.processes import ServiceProcess
    from vigil.cli.servers import free_port
    from vigil.rules.bench import Probe, page_latencies, pct, sink_routing, start_background

    common = {"VIGIL_MQTT_URL": url, "VIGIL_DATABASE_URL": db_url, "VIGIL_LOG_LEVEL": "WARNING"}
    ports = free_port(), free_port(), free_port()
    shared = "true" if opts["ingest_replicas"] > 1 else "false"
    ingests = []
    for i in range(opts["ingest_replicas"]):
        port = ports[0] if i == 0 else free_port()
        ingests.append(ServiceProcess(f"ingest-{i}", home / f"ingest-{i}", "vigil.ingest", {
            **common, "VIGIL_INGEST_CLIENT_ID": f"bench-ingest-{i}",
            "VIGIL_INGEST_SHARED_SUBSCRIPTION": shared,
            "VIGIL_INGEST_HTTP_PORT": str(port)}, port))
    rules = ServiceProcess("rules", home / "rules", "vigil.rules", {
        **common, "VIGIL_RULES_CLIENT_ID": "bench-rules-0", "VIGIL_RULES_HTTP_PORT": str(ports[1]),
        "VIGIL_RULES_FILE": str(home / "rules.yaml")}, ports[1])
    services = [*ingests, rules]
    sink = None
    pages: list[dict[str, Any]] = []
    if opts["notifier"]:
        sink = serve(0, pages.append)  # the pager inbox's receiver, pages kept in memory
        (home / "routing.yaml").write_text(sink_routing(sink.server_address[1]))
        services.append(ServiceProcess("notifier", home / "notifier", "vigil.notifier", {
            **common, "VIGIL_NOTIFIER_CLIENT_ID": "bench-notifier-0",
            "VIGIL_NOTIFIER_HTTP_PORT": str(ports[2]),
            "VIGIL_NOTIFIER_ROUTING_FILE": str(home / "routing.yaml")}, ports[2]))
    for service in services:
        service.start()
    try:
        probe = Probe(url, opts["probe_ids"], opts["t0_ms"])
        procs = start_background(url, opts["bg_ids"], opts["rate"], opts["seconds"] + 3,
                                 opts["t0_ms"], opts["publishers"], opts["batch"])
        time.sleep(3)  # warm-up: the background reaches its rate before probing starts
        sent = probe.run(opts["seconds"], opts["interval"])
        published = sum(recv.recv()[0] for _, recv in procs)
        for p, _ in procs:
            p.join()
        probe.close()
        if sink is not None:  # the last pages
            deadline = time.monotonic() + 5
            while len(page_latencies(pages, probe.fired)) < len(probe.fired) and \
                    time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        for service in reversed(services):
            service.stop()
        if sink is not None:
            sink.shutdown()
            sink.server_close()
    lat = probe.latency_ms
    paged = page_latencies(pages, probe.fired)
    return {"background_rate": opts["rate"], "background_batch": opts["batch"],
            "ingest_replicas": opts["ingest_replicas"],
            "background_readings": published,
            "seconds": opts["seconds"], "probes_sent": sent, "alert_events": probe.events,
            "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
            "max_ms": max(lat, default=float("nan")),
            "ingest_p50_ms": pct(probe.ingest_ms, 0.5), "ingest_p99_ms": pct(probe.ingest_ms, 0.99),
            "probe_alerts_fired": len(probe.fired), "pages": len(paged),
            "page_p50_ms": pct(paged, 0.5), "page_p99_ms": pct(paged, 0.99),
            "page_max_ms": max(paged, default=float("nan"))}


def bench_alerts(
    rate: Annotated[int, typer.Option(help="Background readings/s")] = 5000,
    seconds: Annotated[float, typer.Option(help="Length of each measured run")] = 20.0,
    devices: Annotated[int, typer.Option(help="Background devices (patients)")] = 1000,
    probes: Annotated[int, typer.Option(help="Probe devices")] = 10,
    probe_interval: Annotated[float, typer.Option(help="Seconds between probe readings")] = 0.05,
    publishers: Annotated[int, typer.Option(help="Background publisher processes")] = 2,
    batch: Annotated[list[int] | None, typer.Option(
        help="Background readings per message, one run each: 1 = a glucose-meter JSON message"
             " per reading, more = telemetry batches (default: 10 and 1)")] = None,
    ingest_replicas: Annotated[int, typer.Option(
        help="Ingest replicas (more than 1: a shared subscription)")] = 1,
    notifier: Annotated[bool, typer.Option(
        help="Also run the notifier and time reading publish -> webhook received")] = True,
    output: Annotated[Path | None, typer.Option(help="Also write the figures as JSON")] = None,
) -> None:
    """p50/p99 from a reading's publish to its AlertEvent (and to the page), under load."""
    import json
    import shutil
    import tempfile

    from vigil.cli.measure import machine, prepare_devices
    from vigil.cli.servers import Mosquitto, Postgres, free_port

    shapes = batch or [10, 1]
    for name, value in (("--rate", rate), ("--devices", devices), ("--probes", probes),
                        ("--publishers", publishers), ("--batch", min(shapes)),
                        ("--ingest-replicas", ingest_replicas)):
        if value < 1:
            raise typer.BadParameter("must be >= 1", param_hint=name)
    if probe_interval <= 0 or seconds <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--probe-interval/--seconds")
    results = []
    for shape in shapes:
        home = Path(tempfile.mkdtemp(prefix="vigil-bench-alerts-"))
        home.chmod(0o755)
        broker = Mosquitto(home / "mosquitto", free_port())
        pg = Postgres(home / "pg", free_port())
        opts: dict[str, Any] = {
            "rate": rate, "seconds": seconds, "publishers": publishers, "batch": shape,
            "interval": probe_interval, "bg_ids": [f"bench-{i:05d}" for i in range(devices)],
            "probe_ids": [f"probe-{i:03d}" for i in range(probes)], "notifier": notifier,
            "ingest_replicas": ingest_replicas,
            "t0_ms": int(time.time() * 1000) - 60 * 86_400_000}
        _bench_rules(home / "rules.yaml")
        try:
            broker.start()
            pg.start()
            asyncio.run(prepare_devices(pg.url, opts["bg_ids"] + opts["probe_ids"]))
            what = "JSON message per reading" if shape == 1 else f"telemetry batches of {shape}"
            console.log(f"background {rate}/s over {devices} devices as {what} for {seconds:g}s,"
                        f" a probe reading every {probe_interval * 1000:g} ms")
            results.append(_bench_run(home, f"mqtt://127.0.0.1:{broker.port}", pg.url, opts))
        finally:
            for server in (pg, broker):
                server.stop()
            shutil.rmtree(home, ignore_errors=True)
    table = Table("background", "readings/s", "achieved", "probe readings", "AlertEvents",
                  "p50 ms", "p99 ms", "max ms", "of which ingest p50/p99 ms",
                  "page p50/p99 ms (pages)", title=f"vigil bench alerts — {machine()}")
    for r in results:
        label = "JSON / reading" if r["background_batch"] == 1 else \
            f"batches of {r['background_batch']}"
        page = (f"{r['page_p50_ms']:.1f} / {r['page_p99_ms']:.1f} ({r['pages']})"
                if r.get("pages") else "-")
        table.add_row(label, f"{rate:,}", f"{r['background_readings'] / (seconds + 3):,.0f}",
                      str(r["probes_sent"]), str(r["alert_events"]),
                      f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", f"{r['max_ms']:.1f}",
                      f"{r['ingest_p50_ms']:.1f} / {r['ingest_p99_ms']:.1f}", page)
    console.print(table)
    if output:
        output.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))

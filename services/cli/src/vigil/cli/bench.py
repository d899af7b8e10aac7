"""`vigil bench …`: throughput and latency figures measured on real local servers."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from vigil.cli.bench_cache import bench_cache
from vigil.cli.bench_ingest import Scenario, run_scenario
from vigil.cli.measure import machine, prepare_devices
from vigil.cli.processes import ServiceProcess
from vigil.cli.rules_cmd import bench_alerts
from vigil.cli.servers import Mosquitto, Postgres, Redis, free_port

app = typer.Typer(help="Benchmarks on real local servers (printed figures, not tests).",
                  no_args_is_help=True)
console = Console(width=150)
app.command("cache")(bench_cache)
app.command("alerts")(bench_alerts)


@app.command("ingest")
def bench_ingest(
    flood: Annotated[int, typer.Option(help="Messages published as fast as possible")] = 2000,
    seconds: Annotated[float, typer.Option(help="Length of the paced latency run")] = 10.0,
    batch_rate: Annotated[int, typer.Option(help="Paced rate, protobuf batches/s")] = 1000,
    json_rate: Annotated[int, typer.Option(help="Paced rate, glucose JSON messages/s")] = 5000,
    devices: Annotated[int, typer.Option(help="Simulated devices")] = 100,
    publishers: Annotated[int, typer.Option(help="Publisher processes")] = 2,
    replicas: Annotated[int, typer.Option(
        help="Ingest replicas (more than 1: shared subscription)")] = 1,
    output: Annotated[Path | None, typer.Option(help="Also write the figures as JSON")] = None,
) -> None:
    """Readings/s committed and publish->commit p50/p99 for protobuf batches and JSON readings."""
    for name, value in (("--flood", flood), ("--devices", devices), ("--publishers", publishers),
                        ("--batch-rate", batch_rate), ("--json-rate", json_rate),
                        ("--replicas", replicas)):
        if value < 1:
            raise typer.BadParameter("must be >= 1", param_hint=name)
    home = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    home.chmod(0o755)
    broker = Mosquitto(home / "mosquitto", free_port())
    pg = Postgres(home / "postgres", free_port())
    redis = Redis(home / "redis", free_port())
    ids = [f"bench-{i:04d}" for i in range(devices)]
    results = []
    try:
        for server in (broker, pg, redis):
            server.start()
        asyncio.run(prepare_devices(pg.url, ids))
        url = f"mqtt://127.0.0.1:{broker.port}"
        ingests = []
        for i in range(replicas):
            port = free_port()
            ingests.append(ServiceProcess(f"ingest-{i}", home / "ingest", "vigil.ingest", {
                "VIGIL_MQTT_URL": url, "VIGIL_DATABASE_URL": pg.url, "VIGIL_LOG_LEVEL": "WARNING",
                "VIGIL_INGEST_CLIENT_ID": f"bench-ingest-{i}", "VIGIL_INGEST_HTTP_PORT": str(port),
                "VIGIL_INGEST_SHARED_SUBSCRIPTION": "true" if replicas > 1 else "false",
            }, port))
        for ingest in ingests:
            ingest.start()
        for scenario in (Scenario("protobuf", 50, flood, batch_rate, seconds),
                         Scenario("json", 1, flood * 10, json_rate, seconds)):
            console.log(f"{scenario.kind}: flood of {scenario.flood} messages, then "
                        f"{scenario.rate}/s for {scenario.seconds:g}s, {replicas} ingest")
            results.append(run_scenario(scenario, url, pg.url, ids, publishers,
                                        [i.pid() or 0 for i in ingests]))
        for ingest in ingests:
            ingest.stop()
    finally:
        for server in (redis, pg, broker):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)
    table = Table("payload", "flood readings/s", "flood msgs/s", "paced rate msgs/s",
                  "achieved msgs/s", "p50 ms", "p99 ms", "stored exactly once",
                  "ingest peak RSS MB",
                  title=f"vigil bench ingest — {machine()} — {replicas} ingest replica(s)")
    for r in results:
        table.add_row(r["kind"], f"{r['flood_readings_s']:,.0f}", f"{r['flood_msgs_s']:,.0f}",
                      f"{r['rate']:,}", f"{r['paced_msgs_s']:,.0f}", f"{r['p50_ms']:.1f}",
                      f"{r['p99_ms']:.1f}", "yes" if r["exact"] else "NO",
                      f"{r['peak_rss_mb']:.0f}")
    console.print(table)
    if output:
        output.write_text(json.dumps({"machine": machine(), "replicas": replicas,
                                      "results": results}, indent=2))

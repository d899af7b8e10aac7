"""The Helm chart: lint every CI scenario, render it, and check what Kubernetes would get."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.helm

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "vigil"
SCENARIOS = sorted(p.name for p in (CHART / "ci").glob("*-values.yaml"))
SERVICES = ("ingest", "rules", "notifier", "cache", "bridge")
WORKLOADS = ("StatefulSet", "Deployment")
COMMON_ENV = {"VIGIL_ENVIRONMENT", "VIGIL_LOG_LEVEL", "VIGIL_READINGS_SHARDS",
              "VIGIL_DB_STATEMENT_CACHE", "VIGIL_SECRETS_DIR"}
Doc = dict[str, Any]


@pytest.fixture(scope="session")
def helm() -> Path:
    """The pinned helm from .tools/bin, built by scripts/install-helm.sh when missing."""
    binary = ROOT / ".tools" / "bin" / "helm"
    if not binary.exists():
        subprocess.run([str(ROOT / "scripts" / "install-helm.sh")], check=True, timeout=1200)
    return binary


def run(helm: Path, *args: str, chart: Path = CHART) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args, str(chart)], capture_output=True, text=True,
                          check=False, timeout=120)


def render(helm: Path, scenario: str | None = None, *sets: str, chart: Path = CHART) -> list[Doc]:
    args = ["template", "rel", "--namespace", "vigil"]
    if scenario:
        args += ["-f", str(CHART / "ci" / scenario)]
    for s in sets:
        args += ["--set", s]
    out = run(helm, *args, chart=chart)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_specs(docs: list[Doc]) -> list[tuple[str, Doc]]:
    specs = []
    for d in docs:
        name = f"{d['kind']}/{d['metadata']['name']}"
        if d["kind"] in (*WORKLOADS, "Job"):
            specs.append((name, d["spec"]["template"]["spec"]))
        elif d["kind"] == "Pod":
            specs.append((name, d["spec"]))
    return specs


def env_of(container: Doc) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lint_strict(helm: Path, scenario: str) -> None:
    out = run(helm, "lint", "--strict", "-f", str(CHART / "ci" / scenario))
    assert out.returncode == 0, out.stdout + out.stderr


def test_scenarios_exist() -> None:
    assert {"minimal-values.yaml", "production-values.yaml", "all-services-values.yaml"} <= set(
        SCENARIOS
    )


@pytest.mark.parametrize(
    "values",
    [{"ingets": {"enabled": True}}, {"ingest": {"replicas": 3}}, {"ingest": {"replicaCount": "3"}},
     {"config": {"environment": "prod"}}, {"secrets": {"databaseUrl": "mysql://x"}}],
    ids=["top-level-typo", "service-key-typo", "wrong-type", "bad-enum", "bad-url"],
)
def test_schema_rejects_bad_values(helm: Path, tmp_path: Path, values: Doc) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(values))
    out = run(helm, "lint", "--strict", "-f", str(CHART / "ci" / "minimal-values.yaml"),
              "-f", str(bad))
    assert out.returncode != 0
    assert "schema" in (out.stdout + out.stderr).lower() or "not allowed" in out.stdout


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_pod_is_locked_down(helm: Path, scenario: str) -> None:
    specs = pod_specs(render(helm, scenario))
    assert specs
    for name, spec in specs:
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True, name
        assert psc["runAsUser"] > 0, name
        assert psc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert c["resources"]["requests"]["memory"], name
            assert c["resources"]["limits"]["memory"], name


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_long_running_workloads_have_probes(helm: Path, scenario: str) -> None:
    workloads = [d for d in render(helm, scenario) if d["kind"] in WORKLOADS]
    assert workloads
    for w in workloads:
        for c in w["spec"]["template"]["spec"]["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in c, f"{w['metadata']['name']}: no {probe}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_services_select_pods(helm: Path, scenario: str) -> None:
    docs = render(helm, scenario)
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in docs
                  if d["kind"] in WORKLOADS]
    for svc in (d for d in docs if d["kind"] == "Service"):
        sel = svc["spec"]["selector"]
        assert any(sel.items() <= labels.items() for labels in pod_labels), svc["metadata"]["name"]


def test_env_contract(helm: Path) -> None:
    docs = render(helm, "minimal-values.yaml")
    config = one(docs, "ConfigMap", "rel-vigil-env")["data"]
    assert set(config) == COMMON_ENV
    assert config["VIGIL_ENVIRONMENT"] == "development"
    assert config["VIGIL_READINGS_SHARDS"] == "16"
    secret = one(docs, "Secret", "rel-vigil-secrets")["stringData"]
    assert secret["VIGIL_DATABASE_URL"].startswith("postgresql://")
    assert secret["VIGIL_MQTT_URL"] == "mqtt://rel-vigil-mosquitto:1883"
    assert "VIGIL_REDIS_URL" not in secret  # no Redis configured, nobody needs it

    sts = one(docs, "StatefulSet", "rel-vigil-ingest")
    spec = sts["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    assert c["envFrom"] == [{"configMapRef": {"name": "rel-vigil-env"}}]
    env = env_of(c)
    assert env["VIGIL_INGEST_HTTP_PORT"] == "8081"
    assert env["VIGIL_INGEST_GROUP"] == "ingest"
    assert c["ports"][0]["containerPort"] == 8081
    # Liveness must not depend on the database or broker (an outage would restart every pod).
    assert c["livenessProbe"]["httpGet"]["path"] == "/metrics"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # The secret files land where VIGIL_SECRETS_DIR points, named after the variables.
    mount = next(m for m in c["volumeMounts"] if m["name"] == "secrets")
    assert mount["mountPath"] == config["VIGIL_SECRETS_DIR"]
    vol = next(v for v in spec["volumes"] if v["name"] == "secrets")
    assert vol["projected"]["sources"] == [{"secret": {"name": "rel-vigil-secrets"}}]
    assert not any(k.endswith("_URL") for k in env)  # URLs are secrets, never plain env


def test_ingest_has_a_stable_client_id_per_pod(helm: Path) -> None:
    docs = render(helm, "production-values.yaml")
    sts = one(docs, "StatefulSet", "rel-vigil-ingest")
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    assert env_of(c)["VIGIL_INGEST_CLIENT_ID"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    # Its own MQTT user (per-service ACL), from a Secret, never a literal value.
    assert env_of(c)["VIGIL_MQTT_URL"] == {
        "secretKeyRef": {"name": "vigil-mqtt-users", "key": "VIGIL_MQTT_URL_INGEST"}}
    headless = one(docs, "Service", sts["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert "replicas" not in sts["spec"]  # the HPA owns the count
    hpa = one(docs, "HorizontalPodAutoscaler", "rel-vigil-ingest")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet",
                                             "name": "rel-vigil-ingest"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    # Scaling down would strand the messages Mosquitto queues for the removed replica's session.
    assert hpa["spec"]["behavior"]["scaleDown"]["selectPolicy"] == "Disabled"
    assert one(docs, "PodDisruptionBudget", "rel-vigil-ingest")["spec"]["maxUnavailable"] == 1


def test_production_scrapes_metrics_and_fences_the_broker(helm: Path) -> None:
    docs = render(helm, "production-values.yaml")
    monitor = one(docs, "ServiceMonitor", "rel-vigil-ingest")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
    metrics_svc = one(docs, "Service", "rel-vigil-ingest")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= metrics_svc["metadata"][
        "labels"].items()
    headless = one(docs, "Service", "rel-vigil-ingest-headless")
    assert not monitor["spec"]["selector"]["matchLabels"].items() <= headless["metadata"][
        "labels"].items()  # scraped once, not twice
    policy = one(docs, "NetworkPolicy", "rel-vigil-mosquitto")["spec"]["ingress"]
    plain = next(rule for rule in policy if rule["ports"] == [{"port": "mqtt"}])
    assert plain["from"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "vigil", "app.kubernetes.io/instance": "rel"}}}]
    assert {"ports": [{"port": "mqtts"}]} in policy  # devices from anywhere, TLS only


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_migrations_run_as_a_pre_install_hook(helm: Path, scenario: str) -> None:
    docs = render(helm, scenario)
    job = one(docs, "Job", "rel-vigil-migrate")
    notes = job["metadata"]["annotations"]
    assert notes["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in notes["helm.sh/hook-delete-policy"]
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    (c,) = spec["containers"]
    assert c["args"] == ["migrate"]
    assert c["image"].endswith("/vigil-cli:0.1.0")
    assert set(env_of(c)) == COMMON_ENV  # inline: the release ConfigMap does not exist yet
    secret_name = next(v for v in spec["volumes"] if v["name"] == "secrets")["secret"]["secretName"]
    if scenario == "production-values.yaml":
        assert secret_name == "vigil-connections"
    else:  # its own hook Secret, created before the Job
        hook_secret = one(docs, "Secret", secret_name)["metadata"]["annotations"]
        assert hook_secret["helm.sh/hook"] == notes["helm.sh/hook"]
        assert int(hook_secret["helm.sh/hook-weight"]) < int(notes["helm.sh/hook-weight"])


def test_disabled_services_render_nothing(helm: Path) -> None:
    docs = render(helm, "minimal-values.yaml")
    components = {d["metadata"]["labels"].get("app.kubernetes.io/component") for d in docs}
    assert components >= {"ingest", "mosquitto", "migrate"}
    assert components.isdisjoint({"rules", "notifier", "cache", "bridge", "redis", "dashboards"})
    kinds = {d["kind"] for d in docs}
    assert kinds.isdisjoint({"NetworkPolicy", "ServiceMonitor", "HorizontalPodAutoscaler"})
    bare = render(helm, "minimal-values.yaml", "ingest.enabled=false", "mosquitto.enabled=false",
                  "migrate.enabled=false", "secrets.mqttUrl=mqtt://broker:1883")
    assert {d["kind"] for d in bare} == {"ConfigMap", "Secret", "ServiceAccount"}


def test_all_services_follow_the_same_pattern(helm: Path) -> None:
    docs = render(helm, "all-services-values.yaml")
    for name in SERVICES:
        kind = {"cache": "Deployment"}.get(name, "StatefulSet")
        w = one(docs, kind, f"rel-vigil-{name}")
        (c,) = w["spec"]["template"]["spec"]["containers"]
        assert c["image"] == f"ghcr.io/vigil-health/vigil-{name}:0.1.0"
        assert "VIGIL_" + name.upper() + "_CLIENT_ID" in env_of(c)
        one(docs, "Service", f"rel-vigil-{name}")
        one(docs, "NetworkPolicy", f"rel-vigil-{name}")
    notifier = one(docs, "StatefulSet", "rel-vigil-notifier")["spec"]["template"]["spec"]
    sources = next(v for v in notifier["volumes"] if v["name"] == "secrets")["projected"]["sources"]
    assert {"secret": {"name": "vigil-notifier-apprise"}} in sources
    secret = one(docs, "Secret", "rel-vigil-secrets")["stringData"]
    assert secret["VIGIL_REDIS_URL"] == "redis://rel-vigil-redis:6379/0"


def test_notifier_is_a_singleton_and_exposes_only_ack_links(helm: Path) -> None:
    values = str(CHART / "ci" / "all-services-values.yaml")
    sts = one(render(helm, "all-services-values.yaml"), "StatefulSet", "rel-vigil-notifier")
    assert sts["spec"]["replicas"] == 1
    for extra in ("notifier.replicaCount=2", "notifier.autoscaling.enabled=true"):
        out = run(helm, "template", "rel", "-f", values, "--set", extra)
        assert out.returncode != 0
        assert "notifier is a singleton" in out.stderr
    docs = render(helm, "all-services-values.yaml", "notifier.ingress.enabled=true",
                  "notifier.ingress.host=vigil.example.org", "notifier.ingress.tlsSecret=vigil-tls",
                  "notifier.ingress.from[0].namespaceSelector.matchLabels.team=edge")
    ing = one(docs, "Ingress", "rel-vigil-notifier-ack")["spec"]
    assert ing["tls"] == [{"hosts": ["vigil.example.org"], "secretName": "vigil-tls"}]
    (rule,) = ing["rules"]
    assert rule["host"] == "vigil.example.org"
    assert [(p["path"], p["pathType"], p["backend"]["service"]) for p in rule["http"]["paths"]] \
        == [("/ack/", "Prefix", {"name": "rel-vigil-notifier", "port": {"name": "http"}})]
    peers = one(docs, "NetworkPolicy", "rel-vigil-notifier")["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"team": "edge"}}} in peers
    out = run(helm, "template", "rel", "-f", values, "--set", "notifier.ingress.enabled=true")
    assert out.returncode != 0
    assert "notifier.ingress.host is required" in out.stderr


def test_rules_replicas_own_shards_by_ordinal(helm: Path) -> None:
    docs = render(helm, "all-services-values.yaml")
    sts = one(docs, "StatefulSet", "rel-vigil-rules")
    spec = sts["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    env = env_of(c)
    assert env["VIGIL_RULES_REPLICAS"] == str(sts["spec"]["replicas"]) == "3"
    assert env["VIGIL_RULES_ORDINAL"] == {
        "fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}}
    files = one(docs, "ConfigMap", "rel-vigil-rules-files")["data"]["rules.yaml"]
    assert "spo2-low" in files
    mount = next(m for m in c["volumeMounts"] if m["name"] == "files")
    assert Path(env["VIGIL_RULES_FILE"]).parent == Path(mount["mountPath"])
    out = run(helm, "template", "rel", "-f", str(CHART / "ci" / "all-services-values.yaml"),
              "--set", "rules.autoscaling.enabled=true", "--set", "rules.autoscaling.maxReplicas=4")
    assert out.returncode != 0
    assert "autoscaling must stay off" in out.stderr


@pytest.mark.parametrize(
    ("sets", "message"),
    [(["config.environment=production"], "mosquitto.auth.existingSecret is required"),
     (["secrets.databaseUrl="], "secrets.databaseUrl is required"),
     (["mosquitto.enabled=false"], "secrets.mqttUrl is required"),
     (["cache.enabled=true"], "the cache service needs Redis"),
     (["mosquitto.tls.enabled=true"], "mosquitto.tls.secretName is required"),
     (["mosquitto.auth.existingSecret=passwd"], "ingest.mqttUrlSecret is required")],
)
def test_unsafe_or_incomplete_values_fail(helm: Path, sets: list[str], message: str) -> None:
    args = ["template", "rel", "-f", str(CHART / "ci" / "minimal-values.yaml")]
    for s in sets:
        args += ["--set", s]
    out = run(helm, *args)
    assert out.returncode != 0
    assert message in out.stderr


def test_broker_config_matches_infra(helm: Path) -> None:
    docs = render(helm, "production-values.yaml")
    cm = one(docs, "ConfigMap", "rel-vigil-mosquitto")["data"]
    assert cm["acl"].strip() == (ROOT / "infra/mosquitto/acl").read_text().strip()
    assert (CHART / "files/mosquitto/acl").read_text() == (ROOT / "infra/mosquitto/acl").read_text()
    conf = cm["mosquitto.conf"].splitlines()
    tls_part = conf[conf.index("listener 8883"):]
    for line in ("require_certificate true", "use_identity_as_username true",
                 "allow_anonymous false", "acl_file /mosquitto/config/acl"):
        assert line in tls_part
    plain_part = conf[conf.index("listener 1883"):conf.index("listener 8883")]
    assert "password_file /mosquitto/auth/passwd" in plain_part
    assert "allow_anonymous false" in plain_part
    assert "persistence true" in conf
    devices = one(docs, "Service", "rel-vigil-mosquitto-devices")
    assert devices["spec"]["type"] == "LoadBalancer"
    assert [p["port"] for p in devices["spec"]["ports"]] == [8883]  # 1883 stays in-cluster
    infra = (ROOT / "infra/mosquitto/mosquitto.conf").read_text().splitlines()
    for key in ("max_queued_bytes 0", "queue_qos0_messages false", "per_listener_settings true"):
        assert key in infra
        assert key in conf


@pytest.mark.parametrize("scenario", ["minimal-values.yaml", "production-values.yaml"])
def test_rendered_broker_config_runs_on_mosquitto(
    helm: Path, tmp_path: Path, scenario: str, mosquitto: Callable[..., Any]
) -> None:
    data = one(render(helm, scenario), "ConfigMap", "rel-vigil-mosquitto")["data"]
    (tmp_path / "acl").write_text(data["acl"])
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "vigil-ingest", "pw"], check=True)
    pki = tmp_path / "pki"
    subprocess.run([str(ROOT / "infra/pki/make-certs.sh"), str(pki)], check=True,
                   capture_output=True)
    broker = mosquitto(data["mosquitto.conf"], tmp_path, acl=tmp_path / "acl", pki=pki,
                       passwd=passwd)
    assert (broker.tls is not None) == (scenario == "production-values.yaml")
    broker.proc.terminate()
    assert broker.proc.wait(10) == 0
    log = broker.log.read_text()
    assert "running" in log
    # No errors, and no deprecated or discouraged settings (the root warning is the test's own).
    problems = [line for line in log.splitlines()
                if ("Error" in line or "Warning" in line or "recommended" in line)
                and "run as root" not in line]
    assert not problems, log


def test_dashboards_become_sidecar_configmaps(helm: Path, tmp_path: Path) -> None:
    chart = tmp_path / "vigil"
    shutil.copytree(CHART, chart)
    for f in (chart / "dashboards").glob("*.json"):
        f.unlink()
    on = "grafana.dashboards.enabled=true"
    assert not [d for d in render(helm, "minimal-values.yaml", on, chart=chart)
                if "grafana_dashboard" in d["metadata"]["labels"]]
    (chart / "dashboards" / "Vitals_Overview.json").write_text(json.dumps({"title": "Vitals"}))
    docs = render(helm, "minimal-values.yaml", on, chart=chart)
    cm = one(docs, "ConfigMap", "rel-vigil-dashboard-vitals-overview")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(cm["data"]["Vitals_Overview.json"]) == {"title": "Vitals"}
    off = render(helm, "minimal-values.yaml", chart=chart)
    assert not any(d["metadata"]["name"].startswith("rel-vigil-dashboard") for d in off)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_notes_render(helm: Path, tmp_path: Path, scenario: str) -> None:
    # `helm template` skips NOTES.txt and `install --dry-run` wants a cluster, so render it
    # through tpl in a copy of the chart.
    chart = tmp_path / "vigil"
    shutil.copytree(CHART, chart)
    (chart / "notes").mkdir()
    shutil.copy(CHART / "templates" / "NOTES.txt", chart / "notes" / "NOTES.txt")
    (chart / "templates" / "zz-notes.yaml").write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n'
        'data: {NOTES: {{ tpl (.Files.Get "notes/NOTES.txt") . | quote }}}\n')
    notes = one(render(helm, scenario, chart=chart), "ConfigMap", "notes")["data"]["NOTES"]
    assert "helm test rel -n vigil" in notes
    assert "ingest: StatefulSet rel-vigil-ingest" in notes
    anonymous = "WARNING: the broker accepts anonymous clients" in notes
    assert anonymous == (scenario != "production-values.yaml")


def test_skaffold_and_compose_match_the_chart_and_dockerfiles() -> None:
    skaffold = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    artifacts = list(skaffold["build"]["artifacts"])
    for profile in skaffold["profiles"]:
        artifacts += [p["value"] for p in profile.get("patches", [])
                      if p["path"] == "/build/artifacts/-"]
    assert {a["image"] for a in artifacts} == {f"vigil-{n}" for n in (*SERVICES, "cli")}
    for a in artifacts:
        assert (ROOT / a["docker"]["dockerfile"]).is_file(), a
    (release,) = skaffold["deploy"]["helm"]["releases"]
    assert (ROOT / release["chartPath"]) == CHART
    keys = list(release["setValueTemplates"])
    for profile in skaffold["profiles"]:
        for p in profile.get("patches", []):
            prefix = "/deploy/helm/releases/0/setValueTemplates/"
            if p["path"].startswith(prefix):
                keys.append(p["path"].removeprefix(prefix))
            elif p["path"] == "/deploy/helm/releases/0/valuesFiles":
                assert all((ROOT / f).is_file() for f in p["value"])
    for key in keys:  # every value skaffold sets exists in the chart
        node = values
        for part in key.split("."):
            assert part in node, key
            node = node[part]
    compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())["services"]
    assert compose["migrate"]["command"] == ["migrate"]
    for name in ("migrate", "ingest"):
        env = compose[name]["environment"]
        assert {"VIGIL_MQTT_URL", "VIGIL_DATABASE_URL", "VIGIL_ENVIRONMENT"} <= set(env)
        build = compose[name]["build"]
        assert (ROOT / "docker" / build["context"] / build["dockerfile"]).resolve().is_file()


def test_every_value_is_documented_helm_docs_style() -> None:
    """Each leaf in values.yaml has a `# --` comment, on itself or on a documented parent."""
    documented: list[tuple[int, bool]] = []  # (indent, has `# --`) of the enclosing keys
    comment = False
    undocumented = []
    for line in (CHART / "values.yaml").read_text().splitlines():
        text = line.strip()
        if text.startswith("#"):
            comment = comment or text.startswith("# --")
            continue
        if not text or text.startswith("- ") or ":" not in text:
            comment = False
            continue
        indent = len(line) - len(line.lstrip())
        while documented and documented[-1][0] >= indent:
            documented.pop()
        ok = comment or any(has for _, has in documented)
        key, _, rest = text.partition(":")
        if rest.strip() in ("", "|"):
            documented.append((indent, ok))
        elif not ok:
            undocumented.append(key)
        comment = False
    assert not undocumented


def test_chart_dashboards_are_in_sync_with_infra() -> None:
    """The chart ships copies (Helm reads only files inside the chart) of infra's dashboards."""
    source = {p.name: p.read_bytes() for p in (ROOT / "infra/grafana/dashboards").glob("*.json")}
    shipped = {p.name: p.read_bytes() for p in (CHART / "dashboards").glob("*.json")}
    assert shipped == source, (
        "run: rm -f charts/vigil/dashboards/*.json && "
        "cp infra/grafana/dashboards/*.json charts/vigil/dashboards/"
    )


def test_rendered_configuration_loads_in_ingest_settings(
    helm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the chart gives the ingest pod is what IngestSettings accepts (the contract)."""
    from vigil.ingest.settings import IngestSettings

    docs = render(helm, "all-services-values.yaml")
    (c,) = one(docs, "StatefulSet", "rel-vigil-ingest")["spec"]["template"]["spec"]["containers"]
    for key in [k for k in os.environ if k.startswith("VIGIL_")]:
        monkeypatch.delenv(key)
    for k, v in one(docs, "ConfigMap", "rel-vigil-env")["data"].items():
        monkeypatch.setenv(k, v)
    for k, v in env_of(c).items():
        monkeypatch.setenv(k, v if isinstance(v, str) else "rel-vigil-ingest-1")  # fieldRef
    # A Secret volume: files behind ..data symlinks, as the kubelet writes them.
    data = tmp_path / "..data"
    data.mkdir()
    for k, v in one(docs, "Secret", "rel-vigil-secrets")["stringData"].items():
        (data / k).write_text(v)
        (tmp_path / k).symlink_to(Path("..data") / k)
    settings = IngestSettings(_secrets_dir=str(tmp_path))  # type: ignore[call-arg]
    assert settings.database_url == "postgresql://vigil:ci-password@timescaledb:5432/vigil"
    assert settings.mqtt.host == "rel-vigil-mosquitto"
    assert settings.redis_url == "redis://rel-vigil-redis:6379/0"
    assert settings.environment == "test"
    assert settings.ingest_client_id == "rel-vigil-ingest-1"
    assert settings.ingest_http_port == c["ports"][0]["containerPort"]

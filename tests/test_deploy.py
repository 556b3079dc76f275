"""The deployment files operators use are checked here: the systemd unit by systemd itself, the
Kubernetes manifests against Kubernetes' schemas, the alert rules and the dashboard against the
metrics the bot really exports, and the image built and started where Docker runs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.ops import Metrics

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def exported_metrics() -> set[str]:
    names = set()
    for line in Metrics().exposition().decode().splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names |= {name, f"{name}_total", f"{name}_bucket", f"{name}_count", f"{name}_sum"} if kind in (
                "counter", "histogram") else {name}
    return names


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    unit = (DEPLOY / "systemd" / "casebot.service").read_text()
    assert "DynamicUser=yes" in unit and "ProtectSystem=strict" in unit and "LoadCredential=master.key:" in unit
    # what verify checks on this machine: the programs and files it names must exist
    (tmp_path / "casebot.env").write_text("")
    (tmp_path / "master.key").write_text("")
    here = (unit.replace("/opt/casebot/bin/casebot", "/bin/true").replace("/etc/casebot/casebot.env", str(tmp_path / "casebot.env"))
            .replace("/etc/casebot/master.key", str(tmp_path / "master.key")))
    (tmp_path / "casebot.service").write_text(here)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "casebot.service")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "casebot.service:" not in result.stderr, result.stderr


def test_the_kubernetes_manifests_are_valid_and_as_an_operator_needs_them():
    import kubernetes_validate

    documents = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "casebot.yaml").read_text()) if d]
    for document in documents:
        kubernetes_validate.validate(document, "1.30.0", strict=True)  # raises on a wrong field
    kinds = {d["kind"]: d for d in documents}
    assert {"Deployment", "Service", "PodDisruptionBudget", "ConfigMap"} <= set(kinds)
    deployment = kinds["Deployment"]["spec"]
    assert deployment["replicas"] >= 2
    container = deployment["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert kinds["ConfigMap"]["data"]["WEBHOOK_URL"].startswith("https://")  # several replicas: webhook mode


def test_alerts_and_dashboard_name_only_metrics_the_bot_exports():
    exported = exported_metrics()
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((DEPLOY / "grafana" / "casebot.json").read_text())
    expressions += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    named = {name for expr in expressions for name in re.findall(r"casebot_[a-z0-9_]+", expr)}
    assert named and named <= exported, named - exported
    assert {r["alert"] for g in rules["groups"] for r in g["rules"]} >= {
        "CasebotDispatcherLagging", "CasebotTelegramThrottling", "CasebotErrors", "CasebotInboxGrowing"}


def test_compose_runs_the_bot_read_only_beside_postgresql():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    bot, database = compose["services"]["casebot"], compose["services"]["postgres"]
    assert bot["read_only"] is True and bot["secrets"][0]["target"] == "/run/secrets/master.key"
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy" and "healthcheck" in database
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER casebot" in dockerfile and "HEALTHCHECK" in dockerfile and "MASTER_KEY_FILE=/run/secrets" in dockerfile


def test_the_image_builds_and_answers_its_health_check(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("Docker is not available here (no docker daemon)")
    build = subprocess.run([docker, "build", "-q", "-t", "kim-casebot:test", str(ROOT)], capture_output=True, text=True,
                           timeout=1800)
    assert build.returncode == 0, build.stderr[-2000:]
    key = tmp_path / "master.key"
    subprocess.run([docker, "run", "--rm", "-v", f"{tmp_path}:/out", "kim-casebot:test", "python", "-c",
                    "from storage.crypto import Keyring; Keyring.generate().save(__import__('pathlib').Path('/out/master.key'))"],
                   check=True, timeout=120)
    name = "casebot-test"
    subprocess.run([docker, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp", "-v", f"{key}:/run/secrets/master.key:ro",
                    "-e", "TELEGRAM_API_URL=http://127.0.0.1:9", "kim-casebot:test"], check=True, timeout=120)
    try:
        for _ in range(60):
            check = subprocess.run([docker, "exec", name, "python", "-c",
                                    "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9090/healthz').read())"],
                                   capture_output=True, text=True)
            if "ok" in check.stdout:
                break
            subprocess.run(["sleep", "1"])
        assert "ok" in check.stdout
    finally:
        subprocess.run([docker, "rm", "-f", name], capture_output=True)

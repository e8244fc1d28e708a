"""monitoring/: the Prometheus config, alert rules and their unit tests, Alertmanager, Grafana's dashboards.

promtool and amtool come from Debian's prometheus packages; `make install-dev` unpacks them into the venv.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
RULES = sorted((MONITORING / "rules").glob("*.yml"))
RULE_TESTS = sorted((MONITORING / "tests").glob("*.yml"))
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))

# The alerts, by group; each group is rules/<group>.yml. A group may hold more.
ALERTS_BY_GROUP = {
    "http": {"HighErrorRate", "SlowResponses", "HighConcurrency"},
    "celery": {"TaskFailureRateHigh", "TaskDurationHigh", "TradingCycleMissing", "WorkerHeartbeatMissing"},
    "trading": {"RiskBlocksHigh", "NoTradesExecuted", "TradingCycleErrors", "TradingHalted"},
    "weather": {"FetchFailureRateHigh", "NoWeatherFetches", "AllSourcesFailing"},
    "targets": {"BackendDown", "WebSocketNoConnections"},
    "kalshi_ws": {"KalshiWSFeedDisconnected", "KalshiWSFeedStalled", "KalshiWSReconnectsHigh"},
}
SEVERITIES = {"critical", "warning", "info"}
PROMETHEUS_OWN = {"up"}  # written by Prometheus for every target, not exported by the app


def _tool(name: str) -> str:
    path = Path(sysconfig.get_path("scripts")) / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: `make install-dev` unpacks it from Debian's prometheus packages")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _alert_rules() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in RULES:
        for group in _load(path)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    yield group["name"], rule


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def _provisioned(kind: str, *, key: str = "") -> list[dict[str, Any]]:
    """Grafana's provisioned items of a kind (datasources, dashboards' providers), from every file of that kind."""
    paths = sorted((MONITORING / "grafana" / "provisioning" / kind).glob("*.yml"))
    return [item for path in paths for item in _load(path)[key or kind]]


def _dashboard_queries() -> list[str]:
    return [
        target["expr"]
        for path in DASHBOARDS
        for panel in _panels(json.loads(path.read_text()))
        for target in panel.get("targets", [])
    ]


# Reading metric names out of PromQL: enough of the language for our rules and panels, not a parser.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS |= {"inf", "nan"}


def metric_names_in(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions, keywords or labels."""
    expr = _STRING.sub('""', expr)
    expr = _GRAFANA_VARIABLE.sub("5m", expr)
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "[]", expr)  # ranges and subqueries
    expr = _LABEL_LIST.sub(" ", expr)  # "sum by (job) (x)" reads as "sum (x)"
    return {
        name
        for name, call in _IDENTIFIER.findall(expr)
        if not call and name.lower() not in _KEYWORDS  # a name before "(" is a function or an aggregation
    }


def test_it_reads_metric_names_out_of_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (job, le) (rate(a_seconds_bucket{view!="x",le="0.5"}[5m])))'
        " / on (mode) group_left (rule) max without (instance) (b_total offset 1h) > 1e3"
        ' and ignoring(le) c unless count(label_replace(d, "dst", "$1", "src", "(.*)")) or vector(0)'
        " + sum(rate(e_total[$__rate_interval])) by (source) - time() * bool inf"
    )

    assert metric_names_in(expr) == {"a_seconds_bucket", "b_total", "c", "d", "e_total"}


def test_prometheus_config_is_valid_and_loads_every_rule_file() -> None:
    # Syntax only: the bearer token file exists in the Prometheus container, not here (rules are checked below).
    result = _run(_tool("promtool"), "check", "config", "--syntax-only", str(MONITORING / "prometheus.yml"))

    assert result.returncode == 0, result.stdout + result.stderr
    config = _load(MONITORING / "prometheus.yml")
    loaded = {path for pattern in config["rule_files"] for path in MONITORING.glob(pattern)}
    assert loaded == set(RULES)
    assert {job["job_name"] for job in config["scrape_configs"]} >= {"kalshiweb", "kalshiweb-worker"}


@pytest.mark.parametrize("path", RULES, ids=lambda path: path.name)
def test_rule_file_is_valid(path: Path) -> None:
    result = _run(_tool("promtool"), "check", "rules", str(path))

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda path: path.name)
def test_rule_unit_tests_pass(path: Path) -> None:
    result = _run(_tool("promtool"), "test", "rules", str(path))

    assert result.returncode == 0, result.stdout + result.stderr


def test_each_group_is_one_file_with_its_alerts() -> None:
    assert {path.stem for path in RULES} == set(ALERTS_BY_GROUP)
    for path in RULES:
        groups = _load(path)["groups"]
        assert [group["name"] for group in groups] == [path.stem]
        alerts = {rule["alert"] for rule in groups[0]["rules"] if "alert" in rule}
        assert alerts >= ALERTS_BY_GROUP[path.stem], path.name


def test_every_alert_has_a_severity_a_summary_and_a_description() -> None:
    for _, rule in _alert_rules():
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]


def _alert_tests() -> tuple[set[tuple[str, str]], set[str]]:
    """(alert, severity) pairs some test expects to fire, and alerts some test expects to stay quiet."""
    fired: set[tuple[str, str]] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in _load(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                expected = check.get("exp_alerts") or []
                fired |= {(check["alertname"], alert["exp_labels"]["severity"]) for alert in expected}
                if not expected:
                    quiet.add(check["alertname"])
    return fired, quiet


def test_every_alert_has_a_test_that_fires_it_and_one_where_it_stays_quiet() -> None:
    fired, quiet = _alert_tests()
    alerts = {(rule["alert"], rule["labels"]["severity"]) for _, rule in _alert_rules()}

    assert alerts - fired == set(), "alerts no test expects to fire"
    assert {name for name, _ in alerts} - quiet == set(), "alerts no test expects to stay quiet"


def test_rules_use_only_metrics_the_app_exports() -> None:
    from kalshiweb.metrics import metric_names

    exported = metric_names() | PROMETHEUS_OWN
    used = {(rule["alert"], name) for _, rule in _alert_rules() for name in metric_names_in(rule["expr"])}

    assert {alert for alert, _ in used} == {rule["alert"] for _, rule in _alert_rules()}  # none read as empty
    assert {(alert, name) for alert, name in used if name not in exported} == set()


def test_dashboards_use_only_metrics_the_app_exports() -> None:
    from kalshiweb.metrics import metric_names

    exported = metric_names() | PROMETHEUS_OWN
    names = [metric_names_in(expr) for expr in _dashboard_queries()]
    used = set().union(*names)

    assert all(names)  # every query selects some metric
    assert used - exported == set()


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    # promtool parses recording rules' expressions; Grafana's own variables become a plain range first.
    rules = [
        {"record": f"dashboard:query_{n}", "expr": _GRAFANA_VARIABLE.sub("5m", expr)}
        for n, expr in enumerate(_dashboard_queries())
    ]
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))

    result = _run(_tool("promtool"), "check", "rules", str(path))

    assert rules
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboards_are_unique_and_every_panel_queries_the_provisioned_datasource() -> None:
    uids = {source["uid"] for source in _provisioned("datasources")}
    dashboards = [json.loads(path.read_text()) for path in DASHBOARDS]

    assert {path.name for path in DASHBOARDS} == {"api-overview.json", "trading-weather.json"}
    assert len({d["uid"] for d in dashboards}) == len({d["title"] for d in dashboards}) == len(dashboards)
    for dashboard in dashboards:
        panels = [panel for panel in _panels(dashboard) if panel["type"] != "row"]
        assert panels, dashboard["title"]
        assert len({panel["id"] for panel in panels}) == len(panels), dashboard["title"]
        for panel in panels:
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["expr"].strip(), panel["title"]
                assert target.get("datasource", panel["datasource"])["uid"] in uids, panel["title"]


def test_grafana_provisions_the_dashboards_folder() -> None:
    providers = _provisioned("dashboards", key="providers")

    assert [provider["options"]["path"] for provider in providers] == ["/var/lib/grafana/dashboards"]


def test_alertmanager_config_is_valid() -> None:
    result = _run(_tool("amtool"), "check-config", str(MONITORING / "alertmanager.yml"))

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("severity", "receiver"),
    [("critical", "webhook-critical"), ("warning", "webhook-warning"), ("info", "webhook-info")],
)
def test_alertmanager_routes_each_severity_to_its_webhook(severity: str, receiver: str) -> None:
    config = str(MONITORING / "alertmanager.yml")
    result = _run(_tool("amtool"), "config", "routes", "test", f"--config.file={config}", f"severity={severity}")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [receiver]


def test_alertmanager_repeats_critical_alerts_most_often() -> None:
    routes = {route["receiver"]: route for route in _load(MONITORING / "alertmanager.yml")["route"]["routes"]}
    hours = {name: int(route["repeat_interval"].removesuffix("h")) for name, route in routes.items()}

    assert hours["webhook-critical"] < hours["webhook-warning"] < hours["webhook-info"]


def test_backend_down_and_critical_alerts_inhibit_their_echoes() -> None:
    rules = _load(MONITORING / "alertmanager.yml")["inhibit_rules"]
    pairs = {(tuple(rule["source_matchers"]), tuple(rule["target_matchers"]), tuple(rule["equal"])) for rule in rules}

    assert (('alertname="BackendDown"',), ('alertname!="BackendDown"',), ("job",)) in pairs
    assert (('severity="critical"',), ('severity="warning"',), ("alertname", "job")) in pairs

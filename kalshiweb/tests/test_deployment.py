"""Deployment: the Procfile's processes, compose.yaml and its settings, and static files as production serves them."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from celery.app.utils import find_app
from cryptography.fernet import Fernet
from django.core.management import get_commands
from django.db import connection
from django.utils.module_loading import import_string

REPO_ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ("release", "web", "worker", "beat", "feed")
COMPOSE_SERVICES = {*PROCESSES, "postgres", "redis", "prometheus", "alertmanager", "grafana"}
BIN_DIR = Path(sys.executable).parent  # the virtualenv's scripts: uvicorn, celery
ONE_YEAR = 365 * 24 * 3600


def procfile() -> dict[str, str]:
    """The Procfile's processes: name → command."""
    entries = {}
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def command_words(command: str) -> list[str]:
    """A Procfile command as it runs by default: ``${NAME:-default}`` at its default, ``env NAME=value`` dropped."""
    words = shlex.split(re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command))
    if words[0] == "env":
        words = words[1:]
        while words and re.fullmatch(r"\w+=.*", words[0]):
            words.pop(0)
    return words


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def env_file(path: Path) -> dict[str, str]:
    """NAME=value lines, comments and blank lines skipped."""
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())


def compose_example() -> dict[str, str]:
    """deploy/compose.env.example with its CHANGE placeholders filled in as an operator would."""
    fills = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "GRAFANA_ADMIN_PASSWORD": secrets.token_urlsafe(16),
    }
    values = env_file(REPO_ROOT / "deploy" / "compose.env.example")
    return {name: fills[name] if "CHANGE" in value else value for name, value in values.items()}


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?message}`` (a missing name is a KeyError)."""

    def value(match: re.Match[str]) -> str:
        name, kind, default = match[1], match[2], match[3]
        if kind == ":-" and not variables.get(name):
            return default
        return variables[name]

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", value, text)


def app_environment(variables: dict[str, str]) -> dict[str, str]:
    """What an app container's environment holds: the env file, then compose.yaml's ``environment``."""
    environment = compose()["x-app"]["environment"]
    return {**variables, **{name: interpolate(str(value), variables) for name, value in environment.items()}}


# --- The Procfile ---------------------------------------------------------------------------------------------


def test_the_procfile_runs_each_production_process():
    assert tuple(procfile()) == PROCESSES


@pytest.mark.parametrize("process", PROCESSES)
def test_each_process_runs_a_program_and_code_that_exist(process):
    words = command_words(procfile()[process])
    program = words[0]
    if program == "python" and words[1] == "-m":
        assert words[2] == "kalshiweb.serve" and callable(import_string(words[3].replace(":", "."))), words
        return
    if program == "python":
        assert words[1] == "manage.py" and words[2] in get_commands(), words
        return
    assert (BIN_DIR / program).is_file(), f"{program} is not installed (requirements.txt)"
    if program == "uvicorn":
        assert callable(import_string(words[1].replace(":", ".")))
    elif program == "celery":
        assert find_app(option(words, "-A")).main == "kalshiweb"
        if "--scheduler" in words:
            import_string(option(words, "--scheduler").replace(":", "."))
    else:
        pytest.fail(f"{process}: no check for {program!r}")


# --- compose.yaml -----------------------------------------------------------------------------------------------


def test_compose_runs_every_process_and_the_services_they_need():
    assert set(compose()["services"]) == COMPOSE_SERVICES


@pytest.mark.parametrize("process", PROCESSES)
def test_each_compose_service_runs_its_procfile_command(process):
    assert shlex.split(compose()["services"][process]["command"]) == command_words(procfile()[process])


def test_the_app_processes_share_one_image_and_the_metrics_directory():
    services = compose()["services"]
    directory = compose()["x-app"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    for process in PROCESSES:
        service = services[process]
        assert (service["build"], service["image"]) == (".", "kalshiweb")
        assert f"metrics:{directory}" in service["volumes"]
    assert (REPO_ROOT / "Dockerfile").is_file()


def test_every_file_compose_mounts_from_the_repository_exists():
    mounts = [
        (name, volume.split(":")[0])
        for name, service in compose()["services"].items()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]
    assert mounts  # Prometheus, Alertmanager and Grafana read monitoring/
    missing = [f"{name}: {source}" for name, source in mounts if not (REPO_ROOT / source).exists()]
    assert not missing, missing
    for service in compose()["services"].values():
        if "env_file" in service:  # the operator's own copy, made from the committed example
            assert (REPO_ROOT / (service["env_file"] + ".example")).is_file()


def test_the_compose_example_sets_every_production_setting_and_no_secret():
    production = env_file(REPO_ROOT / "deploy" / "production.env")
    example = env_file(REPO_ROOT / "deploy" / "compose.env.example")
    assert set(production) <= set(app_environment(example))
    # Compose refuses to start without these (${NAME:?...}): the example must name each.
    required = set(re.findall(r"\$\{(\w+):\?", (REPO_ROOT / "compose.yaml").read_text()))
    assert required <= set(example)
    for name in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEY", "METRICS_TOKEN", *required):
        assert "CHANGE" in example[name], f"{name} must be a placeholder, never a value"


def test_the_settings_compose_gives_the_app_pass_check_deploy(tmp_path):
    environment = app_environment(compose_example())
    environment.update(
        KALSHIWEB_DATA_DIR=str(tmp_path),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),  # the container's tmpfs volume
        PATH=f"{BIN_DIR}:/usr/bin:/bin",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(r"postgres://kalshiweb:[0-9a-f]{32}@postgres:5432/kalshiweb", environment["DATABASE_URL"])


def test_prometheus_in_compose_scrapes_the_web_with_the_metrics_token():
    """With METRICS_TOKEN set, /metrics refuses a scrape without it: Prometheus must send the mounted secret."""
    services = compose()["services"]
    config = yaml.safe_load((REPO_ROOT / "monitoring" / "prometheus.yml").read_text())
    [job] = [job for job in config["scrape_configs"] if job["job_name"] == "kalshiweb"]
    assert job["static_configs"][0]["targets"] == ["web:8000"]
    assert "127.0.0.1:8000:8000" in services["web"]["ports"]
    token_file = job.get("authorization", {}).get("credentials_file")
    mounted = {secret["target"] for secret in services["prometheus"].get("secrets", [])}
    assert token_file in mounted, f"the kalshiweb job sends {token_file!r}; compose mounts {sorted(mounted)}"


def test_grafana_finds_the_dashboards_where_compose_mounts_them():
    grafana = compose()["services"]["grafana"]
    [target] = [v.split(":")[1] for v in grafana["volumes"] if v.startswith("./monitoring/grafana/dashboards:")]
    providers = [
        provider
        for path in sorted((REPO_ROOT / "monitoring" / "grafana" / "provisioning" / "dashboards").glob("*.y*ml"))
        for provider in yaml.safe_load(path.read_text())["providers"]
    ]
    assert providers and {provider["options"]["path"] for provider in providers} == {target}


# --- Static files, served as in production ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def production_web(tmp_path: Path) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """The Procfile's release step, then its web process, on production settings (SQLite in a temporary directory)."""
    environment = {
        **compose_example(),
        "KALSHIWEB_DATA_DIR": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),  # not the Procfile's default, which release empties
        "PATH": f"{BIN_DIR}:/usr/bin:/bin",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "2",  # several processes, as in production, but not the example's five on a test machine
    }
    release = subprocess.run(
        ["sh", "-c", procfile()["release"]],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert release.returncode == 0, release.stdout + release.stderr
    web = subprocess.Popen(  # its own process group: `sh -c` and the server it starts stop together
        ["sh", "-c", procfile()["web"]],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # As the TLS-terminating proxy sends every request: the served host, and the header saying it came over TLS.
    headers = {"Host": environment["DJANGO_ALLOWED_HOSTS"], environment["DJANGO_PROXY_SSL_HEADER"]: "https"}
    client = httpx.Client(base_url=f"http://127.0.0.1:{environment['PORT']}", headers=headers, timeout=10)
    try:
        wait_until_serving(client, web)
        yield client, environment
    finally:
        client.close()
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)


def wait_until_serving(client: httpx.Client, web: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert web.poll() is None, "the web process exited"
        try:
            client.get("/health/")
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("the web process did not answer within 60 s")


@pytest.mark.slow
def test_production_serves_hashed_static_files_cached_for_a_year(production_web, tmp_path):
    client, environment = production_web
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    # Pages link the hashed names (the admin's sign-in page is public).
    login = client.get("/admin/login/")
    assert login.status_code == 200
    assert f"/static/{manifest['admin/css/base.css']}" in login.text
    hashed = manifest["vendor/htmx.min.js"]
    assert re.fullmatch(r"vendor/htmx\.min\.[0-9a-f]{12}\.js", hashed)
    served = client.get(f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert served.status_code == 200
    assert served.content == (REPO_ROOT / "kalshiweb" / "static" / "vendor" / "htmx.min.js").read_bytes()
    assert served.headers["Content-Encoding"] == "gzip"
    cache_control = served.headers["Cache-Control"]
    assert "immutable" in cache_control
    max_age = re.search(r"max-age=(\d+)", cache_control)
    assert max_age and int(max_age[1]) >= ONE_YEAR
    # The container's health check gets through the host check and the TLS redirect to /health/ itself
    # (503 here: no worker has sent a heartbeat).
    probe = subprocess.run(
        [sys.executable, "deploy/healthcheck.py"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert re.fullmatch(r"health: HTTP (200|503)\n", probe.stdout), probe.stdout + probe.stderr
    assert probe.returncode == (0 if "200" in probe.stdout else 1)


def dockerfile_step(marker: str) -> str:
    """The shell command of the Dockerfile's RUN step that contains ``marker``, continuation lines joined."""
    steps = re.findall(r"^RUN ((?:.*\\\n)*.*)$", (REPO_ROOT / "Dockerfile").read_text(), re.MULTILINE)
    [step] = [step for step in steps if marker in step]
    return step.replace("\\\n", " ")


@pytest.mark.slow
def test_the_images_static_files_step_collects_them_and_leaves_no_key(tmp_path):
    """The Dockerfile's collectstatic step, run here (building the image needs a Docker daemon)."""
    data_dir = tmp_path / "var"
    result = subprocess.run(
        ["sh", "-c", dockerfile_step("collectstatic")],
        cwd=REPO_ROOT,
        env={"KALSHIWEB_DATA_DIR": str(data_dir), "PATH": f"{BIN_DIR}:/usr/bin:/bin", "LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (data_dir / "static" / "staticfiles.json").is_file()
    assert sorted(path.name for path in data_dir.iterdir()) == ["static"]  # no key, no database
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert dockerfile.index("USER kalshiweb") < dockerfile.index(dockerfile_step("collectstatic")[:40])


# --- The web's PostgreSQL connections ---------------------------------------------------------------------------

# uvicorn serving the ASGI application as the web does, counting the PostgreSQL connections its process opens.
COUNTING_WEB = """
import atexit, sys
import psycopg

opened = []
connect = psycopg.Connection.connect.__func__

def counted(cls, *args, **kwargs):
    opened.append(1)
    return connect(cls, *args, **kwargs)

psycopg.Connection.connect = classmethod(counted)  # the pool's way in
psycopg.connect = psycopg.Connection.connect  # Django's, without a pool
atexit.register(lambda: print(f"opened {len(opened)}", flush=True))

import uvicorn

uvicorn.run("kalshiweb.asgi:application", host="127.0.0.1", port=int(sys.argv[1]), lifespan="off", log_level="warning")
"""


@pytest.mark.django_db(transaction=True)
def test_a_web_process_on_postgresql_serves_every_request_from_a_few_pooled_connections(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's connection pool: .ci/run's PostgreSQL pass runs this")
    database = connection.settings_dict  # the suite's migrated test database
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    url = f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": url, "KALSHIWEB_DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    web = subprocess.Popen(
        [sys.executable, "-c", COUNTING_WEB, str(port)],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            wait_until_serving(client, web)
            statuses = {client.get("/health/").status_code for _ in range(20)}  # a dozen queries each
    finally:
        # Ctrl-C: uvicorn stops gracefully and raises it again, as KeyboardInterrupt, so the count is printed at exit.
        web.send_signal(signal.SIGINT)
        out, _ = web.communicate(timeout=30)
    assert statuses <= {200, 503}
    # Without the pool each request's thread opened its own: 21 connections here.
    assert re.fullmatch(r"opened \d+\n", out), out
    opened = int(out.split()[1])
    assert 1 <= opened <= 4

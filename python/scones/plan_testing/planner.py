"""Plan a root offline with tftest and cache the result: `Planner.plan(root, variables, var_files, state)`.

A plan runs in the root's own directory, as tftest does, with everything it writes kept elsewhere: the
`.terraform` directory goes to a data directory of the planner (TF_DATA_DIR), state to a file beside it,
and the two files it must place in the root (the offline override, the dependency lock file when the root
has none) are removed or restored when the plan ends. A lock per root serialises plans of one root across
processes (pytest-xdist workers), since they share those two files.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scones.plan_testing import offline
from scones.plan_testing.emulator import PlanEmulator
from scones.plan_testing.errors import InitFailed, PlanRejected, RootNotPlannable, ToolMissing, require
from scones.plan_testing.plan import Plan
from scones.toolchain.binary import go_runtime_settings

LOCK_FILE = ".terraform.lock.hcl"
# Ambient settings that would make a plan depend on the shell it runs in rather than on its arguments.
_DROPPED_ENV = re.compile(r"^(AWS_.*|TF_VAR_.*|TF_CLI_ARGS.*|TF_DATA_DIR|TF_WORKSPACE|TF_INPUT|TF_LOG.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class PlanStats:
    """How long planning took in this session: what `pytest`'s summary and `make bench` print."""

    inits: list[float] = field(default_factory=list)
    plans: list[float] = field(default_factory=list)  # every terraform plan run, those Terraform rejected too
    cache_hits: int = 0

    def summary(self) -> str:
        if not self.plans:
            return f"no plans ({self.cache_hits} cache hits)"
        return (
            f"{len(self.plans)} plans, {self.cache_hits} served from cache; plan median "
            f"{statistics.median(self.plans):.1f} s, max {max(self.plans):.1f} s; "
            f"{len(self.inits)} inits, {sum(self.inits):.1f} s in all"
        )


def _fingerprint(directory: Path) -> list[tuple[str, int, int]]:
    """What of a root's files a cached plan depends on (configuration and auto-loaded variable files)."""
    found = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and (path.suffix in (".tf", ".json", ".tfvars") or path.name.endswith(".tf.json")):
            if path.name in (offline.OVERRIDE_FILE, offline.PROVIDER_FILE, LOCK_FILE):
                continue
            stat = path.stat()
            found.append((path.name, stat.st_mtime_ns, stat.st_size))
    return found


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@contextlib.contextmanager
def _exclusive(name: str) -> Iterator[None]:
    # One small file per root, kept in one directory: removing a lock file other processes may hold open
    # would let two of them lock different files of the same name.
    locks = Path(tempfile.gettempdir()) / "scones-plan-testing-locks"
    locks.mkdir(exist_ok=True)
    with (locks / f"{name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _terraform_message(exc: Exception) -> str:
    """Terraform's diagnostics from a tftest error (its stderr, else the combined output)."""
    stderr = exc.args[1] if len(exc.args) > 1 and exc.args[1] else ""
    text = stderr or str(exc.args[0] if exc.args else exc)
    return _ANSI.sub("", text).strip()


class Planner:
    """Plans roots offline against a PlanEmulator; one per test session (the `scones_planner` fixture)."""

    def __init__(
        self,
        emulator: PlanEmulator,
        work_dir: Path,
        *,
        terraform: str | None = None,
        parallelism: int = 10,
    ) -> None:
        self.emulator = emulator
        self.work_dir = work_dir
        self.stats = PlanStats()
        self._terraform = terraform
        self._parallelism = parallelism
        self._cache: dict[str, Plan] = {}
        self._initialised: set[str] = set()
        self._env: dict[str, str] | None = None

    # -- toolchain -------------------------------------------------------------------------------

    def terraform(self) -> str:
        if self._terraform is None:
            from scones.toolchain.binary import find_terraform

            found = find_terraform()
            if found is None:
                raise ToolMissing("no terraform: put terraform >= 1.10 on PATH or set TERRAFORM=<path to it>")
            self._terraform = found
        return self._terraform

    def environment(self) -> dict[str, str]:
        """Environment of every terraform call: no ambient AWS or TF_VAR settings, test credentials."""
        if self._env is None:
            env = {k: v for k, v in os.environ.items() if not _DROPPED_ENV.match(k)}
            configured = os.environ.get("TF_CLI_CONFIG_FILE")
            if not (configured and Path(configured).is_file()):
                from scones.toolchain.cli_config import ToolchainError, write_config

                try:
                    env["TF_CLI_CONFIG_FILE"] = str(write_config(self.work_dir / "terraform.tfrc"))
                except ToolchainError as exc:
                    raise ToolMissing(str(exc)) from exc
            env.update(
                CHECKPOINT_DISABLE="1",
                TF_IN_AUTOMATION="1",
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
                AWS_CONFIG_FILE=os.devnull,
                AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                AWS_EC2_METADATA_DISABLED="true",
            )
            env.update(go_runtime_settings())
            self._env = env
        return self._env

    # -- planning --------------------------------------------------------------------------------

    def plan(
        self,
        root: str | os.PathLike[str],
        variables: Mapping[str, Any] | None = None,
        var_files: Sequence[str | os.PathLike[str]] = (),
        state: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        module_sources: Mapping[str, str | os.PathLike[str]] | None = None,
    ) -> Plan:
        """The plan of `root` with `variables` (which win over `var_files` and the root's auto-loaded
        files), against `state` (a state file or its JSON; None: nothing deployed). With a state the plan
        does not refresh: the emulator holds none of its objects, so the state is taken as the truth.
        `module_sources` replaces module calls' sources (remote ones included) by local directories."""
        root_dir = Path(root).resolve()
        if not root_dir.is_dir():
            raise RootNotPlannable(f"{root_dir} is not a directory")
        sources = {name: str(Path(path).resolve()) for name, path in (module_sources or {}).items()}
        files = [Path(f).resolve() for f in var_files]
        state_json = self._state_json(state)
        key = _digest(
            str(root_dir),
            _fingerprint(root_dir),
            dict(variables or {}),
            [(str(f), f.read_bytes().hex()) for f in files],
            state_json,
            sources,
        )
        if key in self._cache:
            self.stats.cache_hits += 1
            return self._cache[key]
        config = offline.inspect_root(root_dir, sources)
        offline.check_plannable(root_dir, config)
        plan = self._run(root_dir, config, dict(variables or {}), files, state_json, sources, key)
        self._cache[key] = plan
        return plan

    @staticmethod
    def _state_json(state: str | os.PathLike[str] | Mapping[str, Any] | None) -> str | None:
        if state is None:
            return None
        if isinstance(state, Mapping):
            return json.dumps(state)
        return Path(state).read_text()

    def _run(
        self,
        root: Path,
        config: offline.RootConfig,
        variables: dict[str, Any],
        var_files: list[Path],
        state_json: str | None,
        sources: dict[str, str],
        key: str,
    ) -> Plan:
        require("tftest")
        import tftest

        root_key = _digest(str(root), sources)
        data_dir = self.work_dir / "roots" / root_key
        data_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment() | {"TF_DATA_DIR": str(data_dir / ".terraform")}
        tf = tftest.TerraformTest(str(root), binary=self.terraform(), env=env)
        run_dir = self.work_dir / "plans" / key
        run_dir.mkdir(parents=True, exist_ok=True)
        # -var after -var-file: later options win, and Terraform refuses an undeclared -var name (a
        # misspelled variable in a var file is only a warning).
        args = ["-input=false", "-no-color", "-refresh=false", f"-parallelism={self._parallelism}"]
        args += [f"-var-file={f}" for f in var_files]
        # `-var x=null` sets a string variable to the text "null"; only a variable file can say null.
        nulls = {name: None for name, value in variables.items() if value is None}
        if nulls:
            (run_dir / "nulls.tfvars.json").write_text(json.dumps(nulls))
            args.append(f"-var-file={run_dir / 'nulls.tfvars.json'}")
        args += [f"-var={name}={_hcl_value(value)}" for name, value in variables.items() if value is not None]
        if state_json is not None:
            (run_dir / "terraform.tfstate").write_text(state_json)
            args.append(f"-state={run_dir / 'terraform.tfstate'}")
        args.append(f"-out={run_dir / 'plan.tfplan'}")
        override = offline.render_override(root, config, self.emulator.url, data_dir / "terraform.tfstate", sources)
        with _exclusive(root_key), self._files_in_root(root, config, override, data_dir):
            if root_key not in self._initialised:
                started = time.perf_counter()
                try:
                    tf.init(upgrade=False)
                except tftest.TerraformTestError as exc:
                    raise InitFailed(
                        f"terraform init failed in {root}: {_first_error(_terraform_message(exc))}"
                    ) from exc
                self.stats.inits.append(time.perf_counter() - started)
                self._initialised.add(root_key)
            started = time.perf_counter()
            try:
                tf.execute_command("plan", *args)
                shown = tf.execute_command("show", "-no-color", "-json", str(run_dir / "plan.tfplan"))
            except tftest.TerraformTestError as exc:
                raise PlanRejected(str(root), _terraform_message(exc)) from exc
            finally:
                self.stats.plans.append(time.perf_counter() - started)
        return Plan(root=str(root), raw=_deterministic(json.loads(shown.out)))

    @contextlib.contextmanager
    def _files_in_root(
        self, root: Path, config: offline.RootConfig, override: dict[str, Any], data_dir: Path
    ) -> Iterator[None]:
        """Place the override (and a default aws provider, and this planner's lock file) in the root for the
        length of one init+plan; put the root back as it was afterwards, whatever happens."""
        written = [root / offline.OVERRIDE_FILE]
        (root / offline.OVERRIDE_FILE).write_text(json.dumps(override, indent=1))
        if "" not in config.aws_aliases and "aws" in config.providers:
            (root / offline.PROVIDER_FILE).write_text(json.dumps(offline.render_default_provider(self.emulator.url)))
            written.append(root / offline.PROVIDER_FILE)
        lock = root / LOCK_FILE
        ours = data_dir / LOCK_FILE
        original = lock.read_bytes() if lock.is_file() else None
        if ours.is_file():
            lock.write_bytes(ours.read_bytes())
        try:
            yield
        finally:
            if lock.is_file():
                ours.write_bytes(lock.read_bytes())
            if original is None:
                lock.unlink(missing_ok=True)
            else:
                lock.write_bytes(original)
            for path in written:
                path.unlink(missing_ok=True)


def _deterministic(raw: dict[str, Any]) -> dict[str, Any]:
    """Terraform's JSON without what varies between runs of the same plan: the timestamp, and the order of
    child modules and relevant attributes (Terraform walks modules concurrently)."""

    def by_address(module: dict[str, Any]) -> dict[str, Any]:
        module = dict(module)
        if "resources" in module:
            module["resources"] = sorted(module["resources"], key=lambda r: r["address"])
        if "child_modules" in module:
            module["child_modules"] = sorted(
                (by_address(m) for m in module["child_modules"]), key=lambda m: m["address"]
            )
        return module

    raw = {k: v for k, v in raw.items() if k != "timestamp"}
    for section in ("planned_values", "prior_state"):
        values = raw.get(section, {}).get("values") if section == "prior_state" else raw.get(section)
        if values and "root_module" in values:
            values["root_module"] = by_address(values["root_module"])
    if "relevant_attributes" in raw:
        raw["relevant_attributes"] = sorted(raw["relevant_attributes"], key=lambda a: json.dumps(a, sort_keys=True))
    raw["resource_changes"] = sorted(raw.get("resource_changes", []), key=lambda c: c["address"])
    return raw


def _hcl_value(value: Any) -> str:
    """A -var value: strings as they are (Terraform takes a primitive -var literally), everything else as
    JSON, which Terraform parses as an HCL expression."""
    return value if isinstance(value, str) else json.dumps(value)


def _first_error(message: str) -> str:
    """Terraform's first error, title and explanation, on one line: what a one-line failure shows."""
    start = message.find("Error: ")
    paragraphs = message[max(start, 0) :].split("\n\n")
    return " ".join(" ".join(paragraphs[:2]).split())[:600]

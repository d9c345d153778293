"""Which Terraform root, state, tfvars file and AWS endpoint a release of an environment drives.

`local` talks to the emulator as `make apply ENV=local` does (the root's own local state, the
emulator's URL as `emulator_url`), or, with a state folder, to a run's own state, plugin folder and
tfvars as `scones demo` and the end-to-end tests keep them (scones.deploy.StackConfig's layout).
`dev` and `prod` keep state in S3 and need the root's backend.hcl.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scones.release.config import CONFIG_FILE
from scones.release.errors import MissingBackendConfigError, UnknownEnvironmentError
from scones.tfvars import TFVARS_FILE

LOCAL = "local"
DEFAULT_EMULATOR_URL = "http://127.0.0.1:4588"


@dataclass(frozen=True)
class Workspace:
    env: str
    env_dir: Path  # terraform/envs/<env>
    tfvars_file: Path  # the model.auto.tfvars.json the record stage writes
    out: Path  # build/release/<env>: one folder per run
    data_dir: Path  # the prepared images (scones prepare --out)
    endpoint_url: str | None = None  # the emulator's (local), None: AWS
    state_dir: Path | None = None  # local only: the run's own state, plugins and tfvars
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.env == LOCAL

    @property
    def config_file(self) -> Path:
        return self.env_dir / CONFIG_FILE

    def init_args(self) -> list[str]:
        if self.state_dir is not None:
            return ["-reconfigure", f"-backend-config=path={self.state_dir / 'terraform.tfstate'}"]
        return [] if self.is_local else ["-backend-config=backend.hcl"]

    def plan_args(self) -> list[str]:
        """Variables of a plan: the emulator's URL, and the tfvars file when it is not in the root
        (a file in the root Terraform loads by itself)."""
        args = [f"-var=emulator_url={self.endpoint_url}"] if self.is_local and self.endpoint_url else []
        if self.tfvars_file.parent.resolve() != self.env_dir.resolve():
            args.append(f"-var-file={self.tfvars_file}")
        return args

    def terraform_env(self) -> dict[str, str]:
        env = dict(self.extra_env)
        if self.state_dir is not None:
            env["TF_DATA_DIR"] = str(self.state_dir / ".terraform")
        return env


def workspace_for(
    env: str,
    *,
    envs_dir: Path,
    out: Path,
    data_dir: Path,
    endpoint_url: str | None = None,
    state_dir: Path | None = None,
) -> Workspace:
    """Checked before anything runs: the environment exists, dev/prod have their backend
    configuration, and the emulator options are given only for local."""
    env_dir = envs_dir / env
    if not (env_dir / "main.tf").is_file():
        known = sorted(p.name for p in envs_dir.iterdir() if (p / "main.tf").is_file()) if envs_dir.is_dir() else []
        raise UnknownEnvironmentError(f"unknown environment {env!r}: expected one of {', '.join(known) or 'none'}")
    if env != LOCAL:
        if not (env_dir / "backend.hcl").is_file():
            raise MissingBackendConfigError(
                f"{env_dir / 'backend.hcl'} is missing: copy backend.hcl.example and name your state bucket "
                f"(make bootstrap-state ENV={env} REGION=... BUCKET=...)"
            )
        if state_dir is not None or endpoint_url is not None:
            raise UnknownEnvironmentError(
                f"--state-dir and --endpoint-url are for the local environment (the emulator), not {env!r}"
            )
    resolved_state = state_dir.resolve() if state_dir is not None else None
    tfvars_dir = (resolved_state / "tfvars" / env) if resolved_state is not None else env_dir
    return Workspace(
        env=env,
        env_dir=env_dir.resolve(),
        tfvars_file=(tfvars_dir / TFVARS_FILE).resolve(),
        out=(out / env).resolve(),
        data_dir=data_dir.resolve(),
        endpoint_url=(endpoint_url or DEFAULT_EMULATOR_URL) if env == LOCAL else None,
        state_dir=resolved_state,
    )

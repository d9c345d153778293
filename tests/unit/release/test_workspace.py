"""Which root, state and tfvars a release drives, and the bad environments refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.paths import repo_root
from scones.release.errors import MissingBackendConfigError, UnknownEnvironmentError
from scones.release.workspace import workspace_for

ENVS = repo_root() / "terraform" / "envs"


def test_an_unknown_environment_is_named_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(
        UnknownEnvironmentError, match="unknown environment 'staging': expected one of dev, local, prod"
    ):
        workspace_for("staging", envs_dir=ENVS, out=tmp_path, data_dir=tmp_path)


def test_dev_without_its_backend_configuration_is_refused(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    (envs / "dev").mkdir(parents=True)
    (envs / "dev" / "main.tf").write_text("")
    with pytest.raises(MissingBackendConfigError, match=r"dev/backend.hcl is missing: copy backend.hcl.example"):
        workspace_for("dev", envs_dir=envs, out=tmp_path, data_dir=tmp_path)
    (envs / "dev" / "backend.hcl").write_text('bucket = "b"\n')
    workspace = workspace_for("dev", envs_dir=envs, out=tmp_path, data_dir=tmp_path)
    assert workspace.init_args() == ["-backend-config=backend.hcl"] and workspace.plan_args() == []
    assert workspace.tfvars_file == (envs / "dev" / "model.auto.tfvars.json").resolve()


def test_the_emulator_options_are_for_local_only(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    (envs / "prod").mkdir(parents=True)
    (envs / "prod" / "main.tf").write_text("")
    (envs / "prod" / "backend.hcl").write_text("")
    with pytest.raises(UnknownEnvironmentError, match="are for the local environment"):
        workspace_for("prod", envs_dir=envs, out=tmp_path, data_dir=tmp_path, endpoint_url="http://127.0.0.1:1")


def test_local_talks_to_the_emulator_and_a_state_folder_keeps_state_plugins_and_tfvars(tmp_path: Path) -> None:
    plain = workspace_for("local", envs_dir=ENVS, out=tmp_path, data_dir=tmp_path)
    assert plain.plan_args() == ["-var=emulator_url=http://127.0.0.1:4588"] and plain.init_args() == []
    state = tmp_path / "stack"
    private = workspace_for(
        "local", envs_dir=ENVS, out=tmp_path, data_dir=tmp_path, endpoint_url="http://127.0.0.1:5001", state_dir=state
    )
    assert private.tfvars_file == state / "tfvars" / "local" / "model.auto.tfvars.json"
    assert private.plan_args() == ["-var=emulator_url=http://127.0.0.1:5001", f"-var-file={private.tfvars_file}"]
    assert private.init_args() == ["-reconfigure", f"-backend-config=path={state / 'terraform.tfstate'}"]
    assert private.terraform_env() == {"TF_DATA_DIR": str(state / ".terraform")}

"""scones.toolchain.module_readme: a module's README documents exactly its variables and outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.toolchain.module_readme import main, problems

TF = """
variable "name" {
  type = string
}

variable "retention_days" {
  type = number
}

output "arn" {
  value = "x"
}
"""

README = """# m

## Inputs

| Name | Type | Default | Validation | Description |
| --- | --- | --- | --- | --- |
| `name` | `string` | n/a | - | The name. |
{extra_input}
## Outputs

| Name | Description |
| --- | --- |
| `arn` | The ARN. |
"""


def module(tmp_path: Path, extra_input: str) -> Path:
    (tmp_path / "main.tf").write_text(TF)
    (tmp_path / "README.md").write_text(README.format(extra_input=extra_input))
    return tmp_path


def test_a_complete_readme_passes(tmp_path: Path) -> None:
    path = module(tmp_path, "| `retention_days` | `number` | n/a | 1-3653 | Days. |\n")
    assert problems(path) == []
    assert main([str(path / "main.tf"), str(path)]) == 0


def test_missing_and_stale_rows_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = module(tmp_path, "| `retention` | `number` | n/a | 1-3653 | Days. |\n")
    assert problems(path) == [
        f"{path / 'README.md'}: variables not documented: retention_days",
        f"{path / 'README.md'}: documents variables the module does not have: retention",
    ]
    assert main([str(path)]) == 1
    assert "retention_days" in capsys.readouterr().err


def test_a_module_without_readme_is_named(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TF)
    assert problems(tmp_path) == [f"{tmp_path}: no README.md"]


def test_a_tf_file_that_cannot_be_parsed_is_named(tmp_path: Path) -> None:
    path = module(tmp_path, "")
    (path / "broken.tf").write_text('variable "x" {\n  type =\n')
    (found,) = problems(path)
    assert found.startswith(f"{path / 'broken.tf'}: cannot be parsed")

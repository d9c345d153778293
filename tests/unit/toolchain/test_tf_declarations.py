"""scones.toolchain.tf_declarations: a module's variables and outputs, as its .tf files write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.toolchain.tf_declarations import DeclarationError, Variable, declared, outputs, variables

VARIABLES = r"""
variable "name_prefix" {
  description = "Prefix, e.g. \"scones-dev\"."
  type        = string

  validation {
    condition     = length(var.name_prefix) <= 20
    error_message = "name_prefix must be at most 20 characters."
  }
  validation {
    condition     = can(regex("^[a-z]", var.name_prefix))
    error_message = "name_prefix must start with a letter."
  }
}

variable "execution_log" {
  type = object({
    level                  = optional(string)
    include_execution_data = optional(bool, false)
  })
  default = { level = "ERROR" }
}

variable "model_data_url" {
  description = "S3 URI; null: no endpoint."
  type        = string
  default     = null
}

variable "loose" {
  default = ["a", 1, true]
}
"""

OUTPUTS = """
output "api_key" {
  description = "The key."
  value       = "k"
  sensitive   = true
}

output "bucket" {
  value = "b"
}
"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    (tmp_path / "variables.tf").write_text(VARIABLES)
    (tmp_path / "outputs.tf").write_text(OUTPUTS)
    (tmp_path / "main.tf").write_text('locals {\n  x = "variable \\"not_one\\""\n}\n')
    return tmp_path


def test_variables_come_back_as_the_tf_file_writes_them(module: Path) -> None:
    assert variables(module) == [
        Variable(
            name="name_prefix",
            type="string",
            default=None,
            description='Prefix, e.g. "scones-dev".',
            validations=("name_prefix must be at most 20 characters.", "name_prefix must start with a letter."),
        ),
        Variable(
            name="execution_log",
            type="object({level = optional(string), include_execution_data = optional(bool, false)})",
            default='{level = "ERROR"}',
            description="",
            validations=(),
        ),
        Variable("model_data_url", "string", "null", "S3 URI; null: no endpoint.", ()),
        Variable("loose", None, '["a", 1, true]', "", ()),
    ]
    assert [variable.required for variable in variables(module)] == [True, False, False, False]


def test_outputs_and_names(module: Path) -> None:
    assert [(out.name, out.description, out.sensitive) for out in outputs(module)] == [
        ("api_key", "The key.", True),
        ("bucket", "", False),
    ]
    assert declared(module, "variable") == {"name_prefix", "execution_log", "model_data_url", "loose"}
    assert declared(module, "output") == {"api_key", "bucket"}


def test_a_file_that_cannot_be_parsed_is_named(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text('variable "x" {\n  type = \n')
    with pytest.raises(DeclarationError, match=r"variables\.tf: cannot be parsed"):
        variables(tmp_path)

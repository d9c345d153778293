"""Answers for the AWS APIs that moto lacks but the Terraform AWS provider calls.

Owned by the Terraform work: fill `install()` with idempotent patches of moto.
"""

from __future__ import annotations


def install() -> None:
    """Patch moto so the provider's calls get answers (idempotent)."""

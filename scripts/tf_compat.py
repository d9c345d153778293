#!/usr/bin/env python3
"""`make tf-compat`: plan envs/local against the emulator and check it against the provider 6.x schema."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from scones.local.server import LocalAWS
from scones.toolchain.provider_compat import check_plan, find_assembly, load_schema, used_resource_types

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--terraform", default="terraform")
    parser.add_argument("--cdktn-venv", type=Path, default=REPO / ".venv-cdktn")
    args = parser.parse_args()
    schema = load_schema(find_assembly(args.cdktn_venv))
    root = REPO / "terraform" / "envs" / "local"
    with tempfile.TemporaryDirectory() as scratch, LocalAWS() as aws:
        env = dict(
            os.environ, TF_DATA_DIR=f"{scratch}/data", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
        )
        tf_vars = [
            f"-var=emulator_url={aws.url}",
            "-var=model_data_url=s3://scones-local-data-123456789012-us-east-1/models/compat/model.tar.gz",
            "-var=model_image_uri=763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu-py311",
        ]
        plan_file = f"{scratch}/compat.tfplan"
        for command in (
            ["init", "-input=false"],
            [
                "plan",
                "-input=false",
                "-lock=false",
                "-refresh=false",
                f"-state={scratch}/none.tfstate",
                f"-out={plan_file}",
                *tf_vars,
            ],
        ):
            subprocess.run([args.terraform, f"-chdir={root}", *command], env=env, check=True, stdout=subprocess.DEVNULL)
        shown = subprocess.run(
            [args.terraform, f"-chdir={root}", "show", "-json", plan_file],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    plan = json.loads(shown.stdout)
    problems = check_plan(schema, plan)
    for problem in problems:
        print(f"INCOMPATIBLE: {problem}")
    checked = len(used_resource_types(plan))
    print(f"checked {checked} resource/data types against hashicorp/aws {schema.version}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

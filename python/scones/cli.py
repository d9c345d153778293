"""The `scones` command line.

Subcommands are imported only when they run, so `scones --help` and the light commands
do not pay for torch or the SageMaker SDK.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group.
COMMANDS: dict[str, str] = {
    "prepare": "scones.prepare:prepare_cmd",
    "train": "scones.training.cli:train_cmd",
    "tfvars": "scones.tfvars:tfvars_cmd",
    "approve": "scones.registry_cli:approve_cmd",
    "registry": "scones.registry_cli:registry_group",
    "local": "scones.local.cli:local_group",
    "invoke": "scones.invoke:invoke_cmd",
    "evaluate": "scones.evaluation.cli:evaluate_cmd",
    "monitor": "scones.monitor.cli:monitor_cmd",
    "build-lambdas": "scones.build_lambdas:build_lambdas_cmd",
    "bench": "scones.bench:bench_cmd",
    "bootstrap-state": "scones.state_bucket:bootstrap_state_cmd",
    "demo": "scones.demo:demo_cmd",
    "release": "scones.release.cli:release_cmd",
    "watch": "scones.watch:watch_cmd",
    "batch": "scones.batch_cli:batch_cmd",
    "classify": "scones.classify:classify_cmd",
    "teardown": "scones.teardown_cli:teardown_cmd",
}

SHORT_HELP: dict[str, str] = {
    "prepare": "Extract CIFAR-100 bicycles and motorcycles, write PNGs and .lst files, upload to S3.",
    "train": "Train a model: a SageMaker job (image-classification or pytorch) or --local on this machine.",
    "tfvars": "Write a trained model's URIs into terraform/envs/<env>/model.auto.tfvars.json.",
    "approve": "Approve a model registry version (SageMaker deploys only approved versions).",
    "registry": "List an environment's model registry versions (approval, digest, source, metrics), or reject one.",
    "local": "Run the local AWS emulator (up/down/status/env/fault/alarms).",
    "invoke": "Start workflow executions on random test images and print the outcomes.",
    "evaluate": "Evaluate a model artifact on a prepared split: accuracy, calibration, threshold sweep.",
    "monitor": "Report on what the endpoint captured (HTML report + summary.json).",
    "build-lambdas": "Build the Lambda zips deterministically into build/lambdas/.",
    "bench": "Run the benchmarks and print a table.",
    "bootstrap-state": "Create the S3 bucket of the Terraform state (any region) and an environment's backend.hcl.",
    "demo": "Deploy, train, run, evaluate and monitor, end to end on a private local emulator.",
    "release": "Release a model to an environment: gate, register, reviewed plan, verify, smoke test, rollback.",
    "watch": "Print classification results (VehicleClassified, VehicleNeedsReview) as they arrive on the results bus.",
    "batch": "Classify every image under an S3 prefix with the batch state machine; print the summary.",
    "classify": "Classify one image (FILE or s3://bucket/key) through the signed classification API.",
    "teardown": "Empty a stack's versioned buckets and model registry, so that terraform destroy can delete them.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("scones"):
                raise click.ClickException(f"command {cmd_name!r} is not available: {exc}") from exc
            raise click.ClickException(
                f"command {cmd_name!r} needs the Python package {exc.name!r}; run `make setup`"
            ) from exc
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="scones")
def main() -> None:
    """Scones Unlimited: tell bicycles from motorcycles, on AWS or on this laptop."""


if __name__ == "__main__":
    main()

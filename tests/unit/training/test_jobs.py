"""`scones train` on SageMaker (moto): the CreateTrainingJob request of both algorithms."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from scones.cli import main
from scones.data.errors import PreparedDataError
from scones.data.layout import format_lst, parse_lst
from scones.model import sagemaker_entry
from scones.model.script_options import HYPERPARAMETERS
from scones.training import images
from scones.training.errors import InvalidHyperparameterError, InvalidInstanceTypeError, MissingRoleError
from scones.training.sagemaker_train import JOB_NAME

BUCKET = "scones-train-test"
ROLE = "arn:aws:iam::123456789012:role/scones-sagemaker"
PER_CLASS = 20


def _entries() -> list[tuple[str, int]]:
    return [
        (f"{name}/{name}_{i:03d}.png", label)
        for label, name in enumerate(("bicycle", "motorcycle"))
        for i in range(PER_CLASS)
    ]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.client]:
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")  # the SDK's IAM simulation is not in moto
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3


@pytest.fixture
def prepared(aws: boto3.client) -> boto3.client:
    """The layout `scones prepare` uploads: data/train/<class>/<file>.png, data/train.lst (+ test)."""
    for path, _ in _entries():
        aws.put_object(Bucket=BUCKET, Key=f"data/train/{path}", Body=b"png")
        aws.put_object(Bucket=BUCKET, Key=f"data/test/{path}", Body=b"png")
    aws.put_object(Bucket=BUCKET, Key="data/train.lst", Body=format_lst(_entries()).encode())
    aws.put_object(Bucket=BUCKET, Key="data/test.lst", Body=format_lst(_entries()).encode())
    return aws


def _train(*args: str) -> tuple[int, str, Exception | None]:
    result = CliRunner().invoke(main, ["train", "--bucket", BUCKET, "--role-arn", ROLE, *args])
    return result.exit_code, result.output, result.exception


def _only_job() -> dict:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    jobs = sm.list_training_jobs()["TrainingJobSummaries"]
    assert len(jobs) == 1, jobs
    return sm.describe_training_job(TrainingJobName=jobs[0]["TrainingJobName"])


def _channels(job: dict) -> dict[str, dict]:
    return {c["ChannelName"]: c for c in job["InputDataConfig"]}


def _read(s3: boto3.client, uri: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def test_image_classification_job_definition(prepared: boto3.client) -> None:
    code, output, exc = _train("--epochs", "7", "-H", "learning_rate=0.005", "--result-json", "/dev/null")
    assert code == 0, (output, exc)

    job = _only_job()
    assert job["RoleArn"] == ROLE
    assert job["AlgorithmSpecification"]["TrainingImage"] == (
        "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
    )
    assert job["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/models/"

    channels = _channels(job)
    assert set(channels) == {"train", "validation", "train_lst", "validation_lst"}
    assert {c["ContentType"] for c in channels.values()} == {"application/x-image"}
    image_uris = {channels[n]["DataSource"]["S3DataSource"]["S3Uri"] for n in ("train", "validation")}
    assert image_uris == {f"s3://{BUCKET}/data/train/"}  # no image copied, test split never mounted

    train_lst = parse_lst(_read(prepared, channels["train_lst"]["DataSource"]["S3DataSource"]["S3Uri"]), source="t")
    val_lst = parse_lst(_read(prepared, channels["validation_lst"]["DataSource"]["S3DataSource"]["S3Uri"]), source="v")
    assert not set(train_lst) & set(val_lst)
    assert sorted(train_lst + val_lst) == sorted(_entries())
    assert [label for _, label in val_lst].count(0) == [label for _, label in val_lst].count(1) == 2  # stratified

    hp = job["HyperParameters"]
    assert hp["image_shape"] == "3,32,32"
    assert hp["num_classes"] == "2"
    assert hp["num_training_samples"] == str(len(train_lst)) == "36"
    assert hp["epochs"] == "7"
    assert hp["learning_rate"] == "0.005"
    assert hp["use_pretrained_model"] == "1"
    # Image Classification Hyperparameters: early_stopping "Valid values: True or False".
    assert hp["early_stopping"] == "True"
    assert "augmentation_type" in hp and "mini_batch_size" in hp


def test_moto_writes_no_artifact_and_the_command_says_so(prepared: boto3.client, tmp_path: Path) -> None:
    result_file = tmp_path / "result.json"
    code, output, exc = _train("--result-json", str(result_file))
    assert code == 0, (output, exc)
    assert "[Starting]" in output and ": Completed" in output  # status transitions were shown
    assert "no model artifact was written" in output
    result = json.loads(result_file.read_text())
    assert result["artifact_exists"] is False
    assert result["model_data_url"].endswith("/output/model.tar.gz")
    assert result["model_image_uri"].endswith("/image-classification:1")
    assert result["training_job"].startswith("scones-image-classification-")
    assert JOB_NAME.fullmatch(result["training_job"])  # the name README and --help examples show


def test_same_seed_reuses_the_split_other_seed_does_not(prepared: boto3.client) -> None:
    for seed in ("1", "1", "2"):
        assert _train("--seed", seed, "--no-wait")[0] == 0
    keys = [o["Key"] for o in prepared.list_objects_v2(Bucket=BUCKET, Prefix="data/splits/")["Contents"]]
    assert len(keys) == 4  # two splits x (train.lst, validation.lst)


def test_pytorch_seed_and_val_fraction_given_by_h_carve_the_split(prepared: boto3.client) -> None:
    """`-H seed=2 -H val-fraction=0.25` are not just passed on: they carve the split the job trains on."""
    code, output, exc = _train("--algorithm", "pytorch", "-H", "seed=2", "-H", "val-fraction=0.25", "--no-wait")
    assert code == 0, (output, exc)
    job = _only_job()
    assert job["HyperParameters"]["seed"] == "2" and job["HyperParameters"]["val_fraction"] == "0.25"
    validation = _channels(job)["validation_lst"]["DataSource"]["S3DataSource"]["S3Uri"]
    assert len(parse_lst(_read(prepared, validation), source="v")) == 2 * PER_CLASS // 4
    assert "(seed 2)" in output


def test_pytorch_job_definition(prepared: boto3.client) -> None:
    code, output, exc = _train("--algorithm", "pytorch", "--epochs", "12", "--instance-type", "ml.g4dn.xlarge")
    assert code == 0, (output, exc)
    job = _only_job()
    version, py = images.FRAMEWORK_VERSION, images.PY_VERSION
    assert job["AlgorithmSpecification"]["TrainingImage"] == (
        f"763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:{version}-gpu-{py}"
    )
    assert job["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    assert job["RoleArn"] == ROLE
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/models/"
    hp = job["HyperParameters"]
    assert hp["epochs"] == "12" and hp["seed"] == "0" and hp["recipe"] == "default"
    channels = _channels(job)
    assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{BUCKET}/data/train/"
    assert {"train", "train_lst", "validation_lst"} <= set(channels)
    assert not any("/data/test" in c["DataSource"]["S3DataSource"]["S3Uri"] for c in channels.values())
    # Script mode: the package's source dir was uploaded and is mounted as the code channel.
    code_uri = channels["code"]["DataSource"]["S3DataSource"]["S3Uri"]
    code_bucket, _, code_prefix = code_uri.removeprefix("s3://").partition("/")
    uploaded = [o["Key"] for o in prepared.list_objects_v2(Bucket=code_bucket, Prefix=code_prefix)["Contents"]]
    assert any(key.endswith("/sagemaker_entry.py") for key in uploaded)
    assert any(key.endswith("/inference.py") for key in uploaded)
    assert "model_image_uri: 763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:" in output


def test_missing_prepared_data(aws: boto3.client) -> None:
    from scones.training.s3_data import load_prepared

    code, output, _ = _train()
    assert code == 1
    assert f"train.lst not found in s3://{BUCKET}/data/" in output and "scones prepare" in output
    with pytest.raises(PreparedDataError):
        load_prepared(aws, BUCKET, "data")


def test_image_listed_but_not_uploaded(prepared: boto3.client) -> None:
    prepared.delete_object(Bucket=BUCKET, Key="data/train/bicycle/bicycle_003.png")
    code, output, _ = _train()
    assert code != 0 and "missing from the bucket" in output and "bicycle_003.png" in output


@pytest.mark.parametrize("instance_type", ["g5.xlarge", "p3.2xlarge", "ml.", "ml.g5"])
def test_non_ml_instance_type(prepared: boto3.client, instance_type: str) -> None:
    code, output, exc = _train("--instance-type", instance_type)
    assert code != 0 and isinstance(exc, SystemExit)
    assert f"{instance_type!r} is not a SageMaker instance type" in output
    assert boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"] == []


def test_missing_role(prepared: boto3.client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCONES_ROLE_ARN", raising=False)
    result = CliRunner().invoke(main, ["train", "--bucket", BUCKET])
    assert result.exit_code != 0 and "--role-arn" in result.output and "SCONES_ROLE_ARN" in result.output


def test_role_from_environment(prepared: boto3.client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCONES_ROLE_ARN", ROLE)
    result = CliRunner().invoke(main, ["train", "--bucket", BUCKET, "--no-wait"])
    assert result.exit_code == 0, result.output
    assert _only_job()["RoleArn"] == ROLE


def test_bad_s3_uri_and_bucket(prepared: boto3.client) -> None:
    code, output, _ = _train("--output-path", "models/")
    assert code == 2 and "is not an S3 URI" in output
    result = CliRunner().invoke(main, ["train", "--bucket", "Bad_Bucket", "--role-arn", ROLE])
    assert result.exit_code == 2 and "not a valid S3 bucket name" in result.output


def test_hyperparameter_errors(prepared: boto3.client) -> None:
    assert "has no hyperparameter lerning_rate" in _train("-H", "lerning_rate=0.1")[1]
    assert "expected key=value" in _train("-H", "epochs")[1]
    assert "set both by an option and by --hyperparameter" in _train("--epochs", "3", "-H", "epochs=4")[1]


QUOTA_REFUSAL = (
    "The account-level service limit 'ml.g4dn.xlarge for training job usage' is 0 Instances, with current "
    "utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request "
    "an increase for this quota."
)


@pytest.mark.parametrize("algorithm", ["image-classification", "pytorch"])
def test_a_refusal_for_lack_of_quota_names_the_quota_to_raise(
    prepared: boto3.client, monkeypatch: pytest.MonkeyPatch, algorithm: str
) -> None:
    from moto.sagemaker.responses import SageMakerResponse

    def refuse(self: SageMakerResponse) -> tuple[int, dict[str, str], str]:
        body = json.dumps({"__type": "ResourceLimitExceeded", "Message": QUOTA_REFUSAL})
        return 400, {"Content-Type": "application/x-amz-json-1.1", "status": "400"}, body

    monkeypatch.setattr(SageMakerResponse, "create_training_job", refuse)
    code, output, exc = _train("--algorithm", algorithm, "--instance-type", "ml.g4dn.xlarge", "--no-wait")
    assert code == 1 and type(exc).__name__ == "SystemExit", (output, exc)
    assert "raise 'ml.g4dn.xlarge for training job usage' in Service Quotas" in output
    assert "servicequotas" in output and "SageMaker said: The account-level service limit" in output
    assert "Traceback" not in output


def test_early_stopping_is_spelled_as_the_algorithm_documents_it() -> None:
    from scones.training.hyperparameters import image_classification_hyperparameters

    for given, sent in (("true", "True"), ("FALSE", "False"), ("True", "True")):
        hp = image_classification_hyperparameters(num_training_samples=900, overrides={"early_stopping": given})
        assert hp["early_stopping"] == sent
    with pytest.raises(InvalidHyperparameterError, match="early_stopping=1: must be True or False"):
        image_classification_hyperparameters(num_training_samples=900, overrides={"early_stopping": "1"})


def test_pytorch_recipe_reaches_the_job_and_only_pytorch_takes_one(prepared: boto3.client) -> None:
    code, output, exc = _train("--algorithm", "pytorch", "--recipe", "fast", "--no-wait")
    assert code == 0, (output, exc)
    assert _only_job()["HyperParameters"]["recipe"] == "fast"
    code, output, _ = _train("--recipe", "fast")  # image-classification has no recipes
    assert code == 2 and "--recipe chooses how the pytorch model trains" in output
    code, output, _ = _train("--algorithm", "pytorch", "--recipe", "fastest")
    assert code == 2 and "'fastest' is not one of 'default', 'fast'" in output


def test_pytorch_unknown_hyperparameter_is_rejected_before_anything_is_submitted(prepared: boto3.client) -> None:
    code, output, exc = _train("--algorithm", "pytorch", "-H", "lerning_rate=0.1")
    assert code == 1 and isinstance(exc, SystemExit), (output, exc)
    assert "pytorch has no hyperparameter lerning_rate" in output
    assert "known: batch_size, ensemble, epochs, learning_rate, recipe, seed, val_fraction" in output
    assert boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"] == []
    assert "Contents" not in prepared.list_objects_v2(Bucket=BUCKET, Prefix="data/splits/")  # nothing staged


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train": "s3://elsewhere/"}, "pytorch has no hyperparameter train;"),  # a channel, set by SageMaker
        ({"model-dir": "/tmp"}, "pytorch has no hyperparameter model-dir;"),
        ({"epoch": "3"}, "pytorch has no hyperparameter epoch;"),  # argparse would take the prefix; we do not
        ({"epochs": "ten"}, "epochs=ten: pytorch's epochs must be an integer"),
        ({"learning-rate": "fast"}, "learning-rate=fast: pytorch's learning_rate must be a number"),
        ({"batch_size": "8", "batch-size": "16"}, "batch_size is given twice (as batch-size)"),
        ({"recipe": "fastest"}, "recipe=fastest: pytorch's recipe is one of default, fast,"),
        ({"epochs": "0"}, "epochs=0: pytorch's epochs must be at least 1"),
        ({"learning_rate": "0"}, "learning_rate=0: pytorch's learning_rate must be above 0.0"),
        ({"batch-size": "0"}, "batch-size=0: pytorch's batch_size must be at least 1"),
        ({"ensemble": "0"}, "ensemble=0: pytorch's ensemble must be at least 1"),
        ({"val_fraction": "1.5"}, "val_fraction=1.5: pytorch's val_fraction must be above 0.0 and below 1.0"),
    ],
)
def test_pytorch_hyperparameter_errors(overrides: dict[str, str], message: str) -> None:
    from scones.training.hyperparameters import pytorch_hyperparameters

    with pytest.raises(InvalidHyperparameterError, match=re.escape(message)):
        pytorch_hyperparameters(seed=0, overrides=overrides)


def test_pytorch_hyperparameters_use_the_entry_points_names() -> None:
    from scones.training.hyperparameters import pytorch_hyperparameters

    hp = pytorch_hyperparameters(seed=1, overrides={"learning-rate": "0.02", "ensemble": "3", "val_fraction": "0.2"})
    assert hp == {"seed": "1", "recipe": "default", "learning_rate": "0.02", "ensemble": "3", "val_fraction": "0.2"}
    assert pytorch_hyperparameters()["val_fraction"] == "0.1"  # what carves the split, recorded in the job
    assert pytorch_hyperparameters(overrides={"recipe": "fast"})["recipe"] == "fast"
    with pytest.raises(InvalidHyperparameterError, match="batch_size set both by an option and by --hyperparameter"):
        pytorch_hyperparameters(mini_batch_size=16, overrides={"batch-size": "32"})


def test_pytorch_hyperparameter_names_are_the_options_the_entry_point_parses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scones train` checks names against the table the entry point builds its command line from."""
    assert {"recipe", "epochs", "seed", "learning_rate", "batch_size"} <= {hp.name for hp in HYPERPARAMETERS}
    for hp in HYPERPARAMETERS:
        value = hp.choices[-1] if hp.choices else ("0.25" if hp.maximum == 1 else "7")
        for spelling in hp.spellings:
            argv = ["--model-dir", str(tmp_path), "--train", str(tmp_path), f"--{spelling}", value]
            args = sagemaker_entry.parse_args(argv)
            assert "ignoring unknown arguments" not in capsys.readouterr().err, spelling
            assert getattr(args, hp.name) == hp.type(value), spelling


def test_the_entry_point_refuses_what_scones_train_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One table's ranges: the entry point, run by hand, takes no value `-H` would refuse."""
    for option, message in (("--epochs=0", "epochs must be at least 1"), ("--val-fraction=1", "must be above 0.0")):
        with pytest.raises(SystemExit):
            sagemaker_entry.parse_args(["--model-dir", str(tmp_path), "--train", str(tmp_path), option])
        assert message in capsys.readouterr().err


def test_named_exceptions_from_the_library() -> None:
    from scones.training.hyperparameters import image_classification_hyperparameters, parse_overrides
    from scones.training.sagemaker_train import check_instance_type, check_role_arn
    from scones.training.splits import carve_validation

    with pytest.raises(InvalidInstanceTypeError):
        check_instance_type("m5.large")
    with pytest.raises(MissingRoleError):
        check_role_arn(None)
    with pytest.raises(MissingRoleError):
        check_role_arn("scones-sagemaker")
    with pytest.raises(InvalidHyperparameterError):
        parse_overrides(["a=1", "a=2"])
    with pytest.raises(InvalidHyperparameterError):
        image_classification_hyperparameters(num_training_samples=10, mini_batch_size=32)
    with pytest.raises(PreparedDataError):
        carve_validation([("bicycle/a.png", 0)], val_fraction=0.1, seed=0)


def test_carve_is_stratified_and_seeded() -> None:
    from scones.training.splits import carve_validation

    entries = _entries()
    first = carve_validation(entries, val_fraction=0.25, seed=3)
    again = carve_validation(entries, val_fraction=0.25, seed=3)
    other = carve_validation(entries, val_fraction=0.25, seed=4)
    assert first == again and first.digest == again.digest
    assert first.validation != other.validation
    assert sorted(first.train + first.validation) == sorted(entries)
    assert sum(1 for _, label in first.validation if label == 0) == 5
    assert sum(1 for _, label in first.validation if label == 1) == 5


def test_endpoint_url_carries_every_call_and_emulator_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a moto *server* (what `scones local up` runs): the SDK's own clients must use
    --endpoint-url too, and with no credentials configured the emulator's fake ones are used."""
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for path, _ in _entries():
            s3.put_object(Bucket=BUCKET, Key=f"data/train/{path}", Body=b"png")
        s3.put_object(Bucket=BUCKET, Key="data/train.lst", Body=format_lst(_entries()).encode())
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
            monkeypatch.delenv(name)

        code, output, exc = _train("--endpoint-url", url, "--no-wait")
        assert code == 0, (output, exc)

        sm = boto3.client(
            "sagemaker", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        assert len(sm.list_training_jobs()["TrainingJobSummaries"]) == 1
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        server.stop()

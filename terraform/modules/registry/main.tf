locals {
  group_arn = "arn:${var.partition}:sagemaker:${var.region}:${var.account_id}:model-package-group/${var.group_name}"
  # A version's ARN is model-package/<group>/<version> (CreateModelPackage).
  versions_arn = "arn:${var.partition}:sagemaker:${var.region}:${var.account_id}:model-package/${var.group_name}/*"
}

# The registry: the release pipeline registers each candidate as a version of this group (the AWS provider 5.x
# manages groups, not their versions). SageMaker refuses to delete a group that still has versions.
resource "aws_sagemaker_model_package_group" "this" {
  model_package_group_name        = var.group_name
  model_package_group_description = "Model versions released to the ${var.group_name} endpoint (scones release)."
  tags                            = var.tags
}

# What the release pipeline's identity (the CI role) needs on this group and no other: register a version,
# list and read versions back (to find one by its artifact's SHA-256) and change their approval status.
# Resource types per action from "Actions, resources, and condition keys for Amazon SageMaker"
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html): CreateModelPackage
# is authorized on the group and the new version, the others on the versions (or the group) they read.
data "aws_iam_policy_document" "release" {
  statement {
    sid       = "RegisterVersions"
    actions   = ["sagemaker:CreateModelPackage"]
    resources = [local.group_arn, local.versions_arn]
  }

  statement {
    sid       = "ReadAndApproveVersions"
    actions   = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"]
    resources = [local.versions_arn]
  }

  statement {
    sid       = "ReadGroup"
    actions   = ["sagemaker:DescribeModelPackageGroup"]
    resources = [local.group_arn]
  }
}

resource "aws_iam_policy" "release" {
  name        = var.release_policy_name
  description = "Register, read and approve versions of the ${var.group_name} model package group (attach to the release pipeline's role)."
  policy      = data.aws_iam_policy_document.release.json
  tags        = var.tags
}

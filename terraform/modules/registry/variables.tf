variable "partition" {
  description = "AWS partition of the account (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "region" {
  description = "Region of the group, e.g. us-east-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "account_id" {
  description = "12-digit id of the AWS account of the group."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "group_name" {
  description = "Name of the model package group (the registry's versions live in it)."
  type        = string

  # CreateModelPackageGroup: "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$". Lower case, because SageMaker writes the
  # group name in lower case in its versions' ARNs, and the release policy names those ARNs.
  validation {
    condition     = can(regex("^[a-z0-9](-*[a-z0-9]){0,62}$", var.group_name))
    error_message = "group_name must be 1-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "release_policy_name" {
  description = "Name of the customer-managed IAM policy that lets the release pipeline register, read and approve versions of this group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.release_policy_name))
    error_message = "release_policy_name must be 1-128 characters of letters, digits and +=,.@_-."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}

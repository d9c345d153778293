terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0.0, < 7.0.0"
    }
  }

  # Partial configuration: bucket, key, region (and use_lockfile or dynamodb_table) come from
  # `terraform init -backend-config=backend.hcl`; see backend.hcl.example. S3-native locking
  # (use_lockfile) needs Terraform >= 1.10, hence required_version.
  backend "s3" {}
}

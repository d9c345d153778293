terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0.0, < 7.0.0"
    }
  }

  # Partial configuration, as a team's CI fills it in: `terraform init -backend-config=backend.hcl`
  # (bucket, key, region, use_lockfile). The plan tests replace it with a local backend for the plan.
  backend "s3" {}
}

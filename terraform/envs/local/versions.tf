terraform {
  required_version = ">= 1.10.0"

  # State next to this file for `make apply ENV=local`; the demo, the benchmark and the end-to-end
  # test keep their own (terraform init -backend-config=path=...).
  backend "local" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0.0, < 7.0.0"
    }
  }
}

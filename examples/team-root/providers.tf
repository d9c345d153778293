provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Team        = "vision-platform"
      CostCenter  = "cc-4711"
      Environment = "prod"
    }
  }
}

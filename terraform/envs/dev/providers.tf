provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = merge({ Project = "scones-unlimited", Environment = "scones-dev" }, var.tags)
  }
}

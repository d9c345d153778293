output "data_bucket_name" {
  description = "Name of the data/artifacts bucket."
  value       = aws_s3_bucket.this["data"].bucket
}

output "data_bucket_arn" {
  description = "ARN of the data/artifacts bucket."
  value       = aws_s3_bucket.this["data"].arn
}

output "capture_bucket_name" {
  description = "Name of the data-capture bucket."
  value       = aws_s3_bucket.this["capture"].bucket
}

output "capture_bucket_arn" {
  description = "ARN of the data-capture bucket."
  value       = aws_s3_bucket.this["capture"].arn
}

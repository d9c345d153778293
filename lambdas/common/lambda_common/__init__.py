"""Code shared by the three Lambda functions; `make lambdas` copies it into every zip.

Stdlib + boto3 only: the Lambda Python runtime provides nothing else.
"""

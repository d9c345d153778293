"""What runs the deployed code: warm Lambda sandboxes and SageMaker model workers, each a subprocess.

Kept import-free: every worker subprocess imports this package before the user's code.
"""

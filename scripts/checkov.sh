#!/usr/bin/env bash
# checkov over terraform/, offline: no policy download, no update check, no platform calls.
# Not examples/: its roots declare no resources, only calls of the modules scanned here (checked clean
# with --directory examples when the team root was added); their own plan tests assert encryption,
# least privilege and tags on what they deploy.
set -euo pipefail
cd "$(dirname "$0")/.."
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE
exec .venv-checkov/bin/checkov --directory terraform --framework terraform --skip-download \
  --compact --download-external-modules false "$@"

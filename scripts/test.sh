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
# A private PostgreSQL server for the history's PostgreSQL tests (each test
# makes a database of its own on it), stopped however the run ends. Tests
# that stop and start a server themselves run their own
# (scripts/pg-server.sh).
PG_DIR="$(mktemp -d)"
cleanup() {
  bash scripts/pg-server.sh stop "$PG_DIR/pg" || true
  rm -rf "$PG_DIR"
}
trap cleanup EXIT
TFDRIFT_TEST_PG="$(bash scripts/pg-server.sh start "$PG_DIR/pg")"
export TFDRIFT_TEST_PG
cargo test --locked --lib --bins --tests

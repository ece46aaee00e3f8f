#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does.
#
# Idempotent: creates .venv/ with the pinned Python tools (requirements-dev.txt)
# the first time, reuses it afterwards. Then: rustfmt, clippy, rustdoc, synth
# --check, and `cargo test` over the whole workspace with every feature (the
# deploy tests start and stop moto_server on 127.0.0.1 themselves; one test
# runs the CloudFront function with the machine's Node.js; one runs checkov
# over synth-out/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

venv=$root/.venv
stamp=$venv/.requirements.sha
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/cfn-lint" ] || [ ! -x "$venv/checkov/bin/checkov" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing pinned Python tools into .venv/"
  python3 -m venv "$venv"
  grep -v '^checkov==' requirements-dev.txt > "$venv/requirements-tools.txt"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$venv/requirements-tools.txt"
  # checkov pins an older boto3/botocore than moto's: its own venv keeps
  # moto's dependencies what they are without it.
  python3 -m venv "$venv/checkov"
  "$venv/checkov/bin/pip" install --quiet --disable-pip-version-check "$(grep '^checkov==' requirements-dev.txt)"
  echo "$want" > "$stamp"
fi
export KHS_CFN_LINT="$venv/bin/cfn-lint"
export KHS_MOTO_PYTHON="$venv/bin/python"
export KHS_PYTHON="$venv/bin/python"
# tests/tests/checkov.rs runs the pinned checkov over synth-out/, offline.
export KHS_CHECKOV="$venv/checkov/bin/checkov"
# Tests never ask the EC2 metadata service (or any real AWS endpoint).
export AWS_EC2_METADATA_DISABLED=true
export INSTA_UPDATE=no

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings
echo "==> cargo doc (the library's API docs build without a broken link)"
# Every feature but `full`: the generated crate is documented with the
# services the constructs use (the same generator writes every service; all
# 309 would be 15,800 pages and minutes of rustdoc for no new check).
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet \
  --features khs-constructs/deploy,khs-tests/deploy,khs-app/deploy
echo "==> synth --check (synth-out/ in step with the code)"
cargo run --quiet --bin synth -- --check
echo "==> cargo test"
cargo test --workspace --all-features

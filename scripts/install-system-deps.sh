#!/usr/bin/env bash
# System tools the test suite needs (Debian packages): fonts for rendered test images, Prometheus/promtool for the
# dashboard and alert tests, docker-compose to validate the compose file, Node/npm to fetch helm, tesseract for the
# independent leakage check, iptables and iproute2 (`ip netns`) for the transparent-mode test in network namespaces,
# the benchmark corpus's fonts and sample photos (fonts-liberation, opencv-doc).
# Installs only what is missing; needs root (as on CI) or an already-provisioned machine.
set -euo pipefail
need=()
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v npm >/dev/null || need+=(npm)
command -v tesseract >/dev/null || need+=(tesseract-ocr)
command -v curl >/dev/null || need+=(curl)
command -v iptables >/dev/null || need+=(iptables)
command -v ip >/dev/null || need+=(iproute2)
[ -f /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || need+=(fonts-liberation)
[ -f /usr/share/doc/opencv-doc/examples/data/messi5.jpg ] || need+=(opencv-doc)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null

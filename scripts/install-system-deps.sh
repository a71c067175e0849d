#!/usr/bin/env bash
# System tools the test suite needs (Debian packages): fonts for rendered test images, Prometheus/promtool for the
# dashboard and alert tests, docker-compose to validate the compose file, Node/npm to fetch helm, tesseract for the
# independent leakage check, iptables and iproute2 (`ip netns`) for the transparent-mode test in network namespaces,
# the benchmark corpus's and the reading probe's fonts and sample photos (the table below: fonts of both splits and
# of bench/probe.py, opencv-doc), and the word list gateway/inspection/data/common_words.txt.gz is derived from
# (wamerican; tests/test_common_words.py derives it again).
# Installs only what is missing; needs root (as on CI) or an already-provisioned machine.
# tests/test_system_deps.py fails when a module of the suite needs a package this script does not name.
set -euo pipefail
check() {
  need=()
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
  # fonts and sample photos of the benchmark corpus (bench/corpus.py, bench/scenes/): a file of each package
  while read -r file pkg; do [ -f "$file" ] || need+=("$pkg"); done <<'EOF'
/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf fonts-liberation
/usr/share/doc/opencv-doc/examples/data/messi5.jpg opencv-doc
/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf fonts-noto-core
/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf fonts-noto-mono
/usr/share/fonts/truetype/freefont/FreeSans.ttf fonts-freefont-ttf
/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf fonts-urw-base35
/usr/share/fonts/truetype/croscore/Arimo-Regular.ttf fonts-croscore
/usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf fonts-crosextra-carlito
/usr/share/fonts/truetype/crosextra/Caladea-Regular.ttf fonts-crosextra-caladea
/usr/share/fonts/truetype/inconsolata/Inconsolata.otf fonts-inconsolata
/usr/share/fonts/truetype/hack/Hack-Regular.ttf fonts-hack
/usr/share/fonts/truetype/firacode/FiraCode-Regular.ttf fonts-firacode
/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Regular.ttf fonts-roboto-unhinted
/usr/share/fonts/truetype/open-sans/OpenSans-Regular.ttf fonts-open-sans
/usr/share/fonts/truetype/lato/Lato-Regular.ttf fonts-lato
/usr/share/fonts/opentype/ocr-b/OCRB.otf fonts-ocr-b
/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf fonts-comic-neue
/usr/share/fonts/truetype/fifthhorseman/dkg.ttf fonts-dkg-handwriting
/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf fonts-humor-sans
/usr/share/fonts/truetype/breip/Breip.ttf fonts-breip
/usr/share/fonts/truetype/rufscript/Rufscript010.ttf fonts-rufscript
/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf fonts-bwht
/usr/share/fonts/truetype/jetbrains-mono/JetBrainsMono-Regular.ttf fonts-jetbrains-mono
/usr/share/fonts/fonts-go/Go-Regular.ttf fonts-go
/usr/share/fonts/opentype/ebgaramond/EBGaramond12-Regular.otf fonts-ebgaramond
/usr/share/fonts/opentype/cantarell/Cantarell-Regular.otf fonts-cantarell
/usr/share/fonts/opentype/inter/Inter-Regular.otf fonts-inter
/usr/share/fonts/opentype/cabin/Cabin-Regular.otf fonts-cabin
/usr/share/fonts/opentype/yanone-kaffeesatz/YanoneKaffeesatz-Regular.otf fonts-yanone-kaffeesatz
/usr/share/fonts/opentype/linux-libertine/LinLibertine_R.otf fonts-linuxlibertine
/usr/share/fonts/truetype/mononoki/mononoki-Regular.ttf fonts-mononoki
/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf fonts-dejavu-extra
/usr/share/dict/american-english wamerican
EOF
  command -v prometheus >/dev/null || need+=(prometheus)
  command -v promtool >/dev/null || need+=(prometheus)
  command -v docker-compose >/dev/null || need+=(docker-compose)
  command -v npm >/dev/null || need+=(npm)
  command -v tesseract >/dev/null || need+=(tesseract-ocr)
  command -v curl >/dev/null || need+=(curl)
  command -v iptables >/dev/null || need+=(iptables)
  command -v ip >/dev/null || need+=(iproute2)
}

check
[ ${#need[@]} -eq 0 ] && exit 0
packages=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing system packages: ${packages}(install them with apt-get as root)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Slim Debian images exclude /usr/share/doc/* from every package (dpkg path-exclude); the sample photos live there,
# so they are included explicitly, and --reinstall brings them back if opencv-doc was installed without them.
# The lock timeout waits for another apt run on a shared machine instead of failing.
apt_opts=(-y -qq --no-install-recommends --reinstall -o DPkg::Lock::Timeout=600
          -o "DPkg::Options::=--path-include=/usr/share/doc/opencv-doc/*")
apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install "${apt_opts[@]}" ${packages} >/dev/null
check
if [ ${#need[@]} -ne 0 ]; then
  echo "still missing after apt-get install: $(printf '%s ' "${need[@]}")" >&2
  exit 1
fi
echo "installed system packages: ${packages}" >&2

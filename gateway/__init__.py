"""DLP upload gateway: a mitmproxy addon that inspects image uploads to AI services.

Pipeline (one module per concept):
    scope      -> is this request an in-scope AI upload? (policy destinations)
    extract    -> find every image in the body and rebuild the body with replacements
    inspection -> decode, metadata, OCR + Presidio, faces, barcodes  -> ImageReport
    policy     -> rules decide block / redact / allow / audit / warn  -> Decision
    enforce    -> block responses, redacted bodies
    metrics, audit -> Prometheus counters and the JSON audit log
    addon      -> the thin mitmproxy addon that wires the above together
"""

__version__ = "0.1.0"

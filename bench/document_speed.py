"""Document inspection speed: generated PDFs (text and scanned), a workbook and a zip bomb through the Inspector.

    python -m bench.document_speed [--repeat 3]

Prints the median seconds per document. The files come from tests/support/documents.py (the test extra installs
python-docx/openpyxl/python-pptx); absolute times depend on the box's load: compare numbers from one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time


def cases() -> dict[str, bytes]:
    from tests.support.documents import image_pdf, text_pdf, xlsx, zip_bomb
    from tests.support.images import text_image

    rnd = random.Random(1)
    words = "the quarterly report shows revenue growth in the northern region while costs remained stable".split()
    page = [" ".join(rnd.choice(words) for _ in range(14)) for _ in range(45)]
    page[10] += " contact jane.doe@corpmail.com"
    scan = text_image(["Customer record", "Card: 4539 1488 0343 6467", "Email: jane.doe@corpmail.com"],
                      size=(1240, 1754), font_size=28)
    return {
        "text PDF, 10 pages of 45 lines": text_pdf([page] * 10),
        "scanned PDF, 1 A4 page": image_pdf([scan]),
        "XLSX, 1000 rows x 3 cells": xlsx({"C": [[f"Customer {i}", f"c{i}@corpmail.com", "gold"] for i in range(1000)]}),
        "ZIP bomb, 512 MiB of zeros": zip_bomb(512 * 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from gateway.inspection import Inspector

    inspector = Inspector()
    docs = cases()
    inspector.inspect_document(next(iter(docs.values())))  # warm-up: spaCy and ONNX sessions
    for name, data in docs.items():
        times, report = [], None
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = inspector.inspect_document(data)
            times.append(time.perf_counter() - start)
        facts = report.document
        print(f"{name:32} {statistics.median(times):6.2f} s  ({len(data)} bytes, {facts.pages} pages, "
              f"{facts.text_chars} chars, {facts.images} images, error {report.error.value if report.error else '-'})")


if __name__ == "__main__":
    main()

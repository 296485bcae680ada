"""PyMuPDF's layout (pymupdf + pymupdf-layout + pymupdf4llm, AGPL) on PDF pages, for
`pagewise-dev eval --beside-pymupdf` to score with the same rule as Pagewise's layout.

Measurement only: it runs from the git-ignored venv `bash scripts/dev.sh pymupdf-reference`
makes, never in the product.

usage: pymupdf_layout.py PDF:PAGE_INDEX0 ...
Prints one JSON line: {"pages": {"PDF:PAGE": {"width", "height", "seconds",
"boxes": [{"class", "bbox": [x0, y0, x1, y1]}]}}, "version"}; boxes in PDF points from the
top-left, in PyMuPDF's reading order.
"""

import json
import sys
import time

import pymupdf
import pymupdf4llm


def page_layout(path, index):
    doc = pymupdf.open(path)
    start = time.perf_counter()
    parsed = json.loads(pymupdf4llm.to_json(doc, pages=[index], use_ocr=False))
    seconds = time.perf_counter() - start
    page = parsed["pages"][0]
    boxes = [
        {"class": b["boxclass"], "bbox": [b["x0"], b["y0"], b["x1"], b["y1"]]}
        for b in page["boxes"]
    ]
    return {"width": page["width"], "height": page["height"], "seconds": seconds, "boxes": boxes}


def main():
    pages = {}
    for arg in sys.argv[1:]:
        path, _, index = arg.rpartition(":")
        pages[arg] = page_layout(path, int(index))
    print(json.dumps({"pages": pages, "version": pymupdf4llm.__version__}))


if __name__ == "__main__":
    main()

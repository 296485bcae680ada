"""Pagewise's layout beside PyMuPDF's on pages nobody labelled: a check that a change to the
layout holds beyond the labelled dev pages.

DocBank's dev set labels one page of each of its PDFs; the other pages of those PDFs are
unseen. PyMuPDF's trained layout model (pymupdf4llm, AGPL, from the git-ignored venv
`bash scripts/dev.sh pymupdf-reference` makes; measurement only) labels every other of them,
and each Pagewise CLI given labels them too; each word takes the label of the region holding
it (PyMuPDF: the smallest box holding its centre), in DocBank's classes, and the table gives
per class how far Pagewise agrees with PyMuPDF (precision / recall / F1, PyMuPDF as the
reference). Give two CLIs (before and after a change) to see the change's effect.

usage: python3 scripts/layout_agreement.py DOCBANK_DIR CLI [CLI ...] [--every N]
"""

import argparse
import collections
import json
import os
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Our labels and PyMuPDF's (both DocLayNet's classes) in DocBank's terms, as the dev eval has them.
CLASSES = {
    "text": "paragraph",
    "page-header": "paragraph",
    "key-value": "paragraph",
    "title": "title",
    "section-header": "section",
    "caption": "caption",
    "page-footer": "footer",
    "footnote": "footer",
    "list-item": "list",
    "table": "table",
    "picture": "figure",
    "formula": "equation",
}


def cli_json(cli, library, *args):
    out = subprocess.run([cli, "--library", library, "--json", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def unlabelled_pages(docbank, every):
    gt = json.loads((docbank / "layout.json").read_text())
    labelled = {(pathlib.Path(p["pdf"]).name, p["page_index0"]) for p in gt["pages"].values()}
    pages = []
    for pdf in sorted((docbank / "docs").glob("*.pdf")):
        count = subprocess.run(
            [str(ROOT / ".venv-pymupdf/bin/python"), "-c", f"import pymupdf; print(len(pymupdf.open({str(pdf)!r})))"],
            capture_output=True, text=True, check=True,
        ).stdout
        pages += [(pdf, i) for i in range(0, int(count), every) if (pdf.name, i) not in labelled]
    return pages


def pymupdf_boxes(pages):
    args = [f"{pdf}:{i}" for pdf, i in pages]
    out = subprocess.run(
        [str(ROOT / ".venv-pymupdf/bin/python"), str(ROOT / "scripts/pymupdf_layout.py"), *args],
        capture_output=True, text=True, check=True,
    ).stdout
    got = json.loads(out)["pages"]
    return {key: got[arg]["boxes"] for key, arg in zip(pages, args)}


def word_labels(cli, docbank, pages):
    """Per page: [(word centre, our class)] from a fresh library."""
    with tempfile.TemporaryDirectory() as library:
        subprocess.run([cli, "--library", library, "add", str(docbank / "docs")], capture_output=True, check=True)
        docs = {d["name"]: d["id"] for d in cli_json(cli, library, "list")}
        read = {}
        out = {}
        for pdf, index in pages:
            doc = docs[pdf.name]
            if doc not in read:
                read[doc] = (cli_json(cli, library, "layout", doc), cli_json(cli, library, "text", doc))
            layout, text = read[doc]
            regions = next(p for p in layout["pages"] if p["page"] == index + 1)["regions"]
            words = next(p for p in text["pages"] if p["page"] == index + 1)["words"]
            label = {w: CLASSES.get(r["label"].lower(), "paragraph") for r in regions for w in r["words"]}
            centre = lambda b: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
            out[(pdf, index)] = [(centre(w["bbox"]), label.get(i)) for i, w in enumerate(words)]
        return out


def reference_label(boxes, x, y):
    inside = [b for b in boxes if b["bbox"][0] <= x <= b["bbox"][2] and b["bbox"][1] <= y <= b["bbox"][3]]
    if not inside:
        return None
    area = lambda b: (b["bbox"][2] - b["bbox"][0]) * (b["bbox"][3] - b["bbox"][1])
    return CLASSES.get(min(inside, key=area)["class"].lower(), "paragraph")


def scores(pairs):
    """Per class (precision, recall, F1, reference words) of our labels against PyMuPDF's."""
    counts = collections.Counter(pairs)
    classes = sorted({c for pair in counts for c in pair if c})
    out = {}
    for c in classes:
        tp = counts[(c, c)]
        fp = sum(n for (r, o), n in counts.items() if o == c and r != c)
        fn = sum(n for (r, o), n in counts.items() if r == c and o != c)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[c] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, tp + fn)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("docbank", type=pathlib.Path)
    parser.add_argument("cli", nargs="+")
    parser.add_argument("--every", type=int, default=2, help="every Nth page of each PDF (default 2)")
    a = parser.parse_args()
    os.environ.setdefault("PAGEWISE_PDFIUM", str(ROOT / "vendor/pdfium"))
    pages = unlabelled_pages(a.docbank, a.every)
    boxes = pymupdf_boxes(pages)
    results = []
    for cli in a.cli:
        labels = word_labels(cli, a.docbank, pages)
        pairs = [(reference_label(boxes[k], x, y), ours) for k, words in labels.items() for (x, y), ours in words]
        results.append(scores(pairs))
    print(f"{len(pages)} unlabelled pages; Pagewise against PyMuPDF's layout, per class P / R / F1")
    print(f"{'class':<10} {'words':>6}  " + "  ".join(f"{pathlib.Path(c).name[:20]:>20}" for c in a.cli))
    for c in sorted(set().union(*results)):
        cells = "  ".join("{:.3f}/{:.3f}/{:.3f}".format(*r.get(c, (0, 0, 0, 0))[:3]).rjust(20) for r in results)
        print(f"{c:<10} {results[-1].get(c, (0, 0, 0, 0))[3]:>6}  {cells}")
    for name, r in zip(a.cli, results):
        shared = [v[2] for v in r.values()]
        print(f"macro F1 {pathlib.Path(name).name}: {sum(shared) / len(shared):.3f}")


if __name__ == "__main__":
    main()

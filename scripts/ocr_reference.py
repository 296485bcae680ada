#!/usr/bin/env python3
"""Reference outputs of the OCR models from onnxruntime, for the Rust parity tests
(src-tauri/engine/tests/ocr_parity.rs).

    python scripts/ocr_reference.py        writes tests/fixtures/ocr/expected.json
                                           and tests/fixtures/ocr/expected-pages.json
    python scripts/ocr_reference.py --bench IMAGE...
                                           seconds per image in det, cls and rec (JSON), for
                                           `pagewise-dev bench ocr`

1. The networks alone (expected.json). Inputs are cut from tests/fixtures/detector/invoice-p1.png
   (a page rendered from our own demo invoice) without resizing, so both sides see identical
   pixels: the detector (PP-OCRv6 small) gets the top-left 928 x 640 pixels, the orientation
   classifier (PP-LCNet) an 80 x 160 crop and the recogniser (PP-OCRv6 small) a 48 x 320 crop,
   all as (v/255 - 0.5) / 0.5 on the grey values.
2. Whole pages (expected-pages.json): RapidOCR 3.10.0 -- the pipeline these PP-OCRv6 models
   ship with -- on onnxruntime with the same model files and its default settings (no line
   orientation), on the invoice page and, when ../shared/eval is beside the checkout, two
   SROIE receipts and one finRAG page: each line's box (pixels) and text.

Needs onnxruntime, numpy, pillow and rapidocr (`bash scripts/dev.sh reference`).
"""
import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
MODELS = Path(os.environ.get("PAGEWISE_MODELS", ROOT / ".models"))
EVAL = ROOT.parent / "shared" / "eval"
DET_MODEL, CLS_MODEL, REC_MODEL = "PP-OCRv6_det_small.onnx", "ppocrv5_cls.onnx", "PP-OCRv6_rec_small.onnx"
# (top, left, height, width) of each crop; the Rust test uses the same numbers.
DET, CLS, REC = (0, 0, 928, 640), (60, 380, 80, 160), (50, 340, 48, 320)
INVOICE = "tests/fixtures/detector/invoice-p1.png"
# Pages read whole: paths relative to the repository, or to ../shared/eval (skipped if absent).
PAGES = [INVOICE, "eval:fields-receipts-sroie/images/000.jpg", "eval:fields-receipts-sroie/images/150.jpg",
         "eval:qa-finrag-income-statements/images/18c6d33e00dc454a54043c097f4d11b927f2932364c8a12451a7f6f299bc4a1d_p68.jpg"]


def crop(gray, box):
    t, l, h, w = box
    return gray[t:t + h, l:l + w].astype(np.float32) / 255.0


def networks():
    gray = np.asarray(Image.open(ROOT / INVOICE).convert("L"))
    session = lambda name: ort.InferenceSession(str(MODELS / name))
    run = lambda name, x: session(name).run(None, {"x": x})[0]
    planes = lambda box: np.repeat(((crop(gray, box) - 0.5) / 0.5)[None], 3, axis=0)[None].astype(np.float32)
    prob = run(DET_MODEL, planes(DET))[0, 0]
    h, w = prob.shape
    grid = prob.reshape(8, h // 8, 8, w // 8).mean(axis=(1, 3))
    cls = run(CLS_MODEL, planes(CLS))[0]
    rec = run(REC_MODEL, planes(REC))[0]
    keys = session(REC_MODEL).get_modelmeta().custom_metadata_map["character"].splitlines()
    keys = [""] + keys + [" "]  # CTC blank first, space last
    assert len(keys) == rec.shape[-1], "dictionary and recogniser disagree"
    best = rec.argmax(-1)
    text, prev = "", -1
    for k in best:
        if k != 0 and k != prev:
            text += keys[k]
        prev = k
    return {
        "runtime": f"onnxruntime {ort.__version__}",
        "models": {"det": DET_MODEL, "cls": CLS_MODEL, "rec": REC_MODEL},
        "crops": {"det": DET, "cls": CLS, "rec": REC},
        "det": {"mean": float(prob.mean()), "above_0_3": float((prob > 0.3).mean()), "grid8": np.round(grid, 5).tolist()},
        "cls": np.round(cls, 6).tolist(),
        "rec": {"argmax": best.tolist(), "max": np.round(rec.max(-1), 5).tolist(), "text": text},
    }


def rapid_engine(use_cls):
    from rapidocr import RapidOCR
    from rapidocr.utils.typings import OCRVersion

    return RapidOCR(params={"Det.model_path": str(MODELS / DET_MODEL), "Rec.model_path": str(MODELS / REC_MODEL), "Global.use_cls": use_cls,
                            "Cls.model_path": str(MODELS / CLS_MODEL), "Cls.ocr_version": OCRVersion.PPOCRV5})


def bench(images):
    """RapidOCR's own per-stage timings (with the orientation classifier on every line, as it
    runs it) after one warm-up image, and the process's peak memory."""
    import resource
    import time

    engine = rapid_engine(True)
    engine(str(images[0]))
    rows = []
    for path in images:
        start = time.perf_counter()
        r = engine(str(path))
        total = time.perf_counter() - start
        det, cls, rec = [float(v or 0.0) for v in r.elapse_list]
        rows.append({"file": str(path), "det": det, "cls": cls, "rec": rec, "total": total, "lines": len(r.txts or [])})
    print(json.dumps({"runtime": f"rapidocr 3.10.0 on onnxruntime {ort.__version__}", "images": rows,
                      "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def pages():
    engine = rapid_engine(False)
    out = {"runtime": f"rapidocr 3.10.0 on onnxruntime {ort.__version__}", "pages": {}}
    for page in PAGES:
        path = EVAL / page[5:] if page.startswith("eval:") else ROOT / page
        if not path.is_file():
            print(f"skipping {page}: not found")
            continue
        r = engine(str(path))
        lines = [{"box": [round(float(min(p[0] for p in b)), 1), round(float(min(p[1] for p in b)), 1),
                          round(float(max(p[0] for p in b)), 1), round(float(max(p[1] for p in b)), 1)],
                  "text": t, "score": round(float(s), 4)} for b, t, s in zip(r.boxes, r.txts, r.scores)]
        out["pages"][page] = lines
    return out


def main():
    dest = ROOT / "tests/fixtures/ocr"
    (dest / "expected.json").write_text(json.dumps(networks(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (dest / "expected-pages.json").write_text(json.dumps(pages(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {dest}/expected.json and expected-pages.json")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--bench"]:
        bench([Path(p) for p in sys.argv[2:]])
    else:
        main()

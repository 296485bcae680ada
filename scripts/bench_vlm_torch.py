"""PyTorch reference for `pagewise-dev bench vlm`: transformers' Qwen3-VL or PaddleOCR-VL built from
the same config with random weights, on the same image (same processor settings), the same prompt
token ids and the same number of generated tokens, on the CPU with as many threads as there are
cores.

Usage: bench_vlm_torch.py qwen3_vl|paddleocr_vl CONFIG.json IDS.json IMAGE MAX_PIXELS TOKENS f32|bf16
Prints one JSON line: time to first token, prefill and decode tokens/s, peak memory.
"""

import json
import os
import resource
import sys
import time

import torch
from PIL import Image
from transformers import (LogitsProcessor, LogitsProcessorList, PaddleOCRVLConfig, PaddleOCRVLForConditionalGeneration, Qwen3VLConfig,
                          Qwen3VLForConditionalGeneration)
from transformers.models.paddleocr_vl.image_processing_pil_paddleocr_vl import PaddleOCRVLImageProcessorPil
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil


class StepClock(LogitsProcessor):
    """Records when each new token's logits are ready."""

    def __init__(self):
        self.times = []

    def __call__(self, input_ids, scores):
        self.times.append(time.perf_counter())
        return scores


def main():
    kind, config_path, ids_path, image_path, max_pixels, tokens, dtype = sys.argv[1:8]
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    quantized = dtype == "q8"
    dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    if kind == "paddleocr_vl":
        config = PaddleOCRVLConfig(**json.load(open(config_path)))
        build = PaddleOCRVLForConditionalGeneration
        processor = PaddleOCRVLImageProcessorPil(image_mean=[0.5] * 3, image_std=[0.5] * 3, min_pixels=147384, max_pixels=int(max_pixels))
    else:
        config = Qwen3VLConfig(**json.load(open(config_path)))
        build = Qwen3VLForConditionalGeneration
        processor = Qwen2VLImageProcessorPil(patch_size=16, temporal_patch_size=2, merge_size=2, image_mean=[0.5] * 3, image_std=[0.5] * 3,
                                              size={"shortest_edge": 65536, "longest_edge": int(max_pixels)})
    with torch.no_grad():
        model = build(config).to(dtype).eval()
    if quantized:
        # As Pagewise's q8: the language model's linear layers and the output projection in 8
        # bits (PyTorch's dynamic int8 quantisation, fbgemm), the vision encoder in f32.
        import warnings
        from torch.ao.quantization import quantize_dynamic

        warnings.filterwarnings("ignore")
        quantize_dynamic(model.model.language_model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        model.lm_head = quantize_dynamic(torch.nn.Sequential(model.lm_head), {torch.nn.Linear}, dtype=torch.qint8)[0]
    vision = processor(images=[Image.open(image_path).convert("RGB")], return_tensors="pt")
    ids = torch.tensor([json.load(open(ids_path))])
    mm_types = (ids == config.image_token_id).int()
    tokens = int(tokens)
    clock = StepClock()
    with torch.no_grad():
        start = time.perf_counter()
        model.generate(input_ids=ids, pixel_values=vision["pixel_values"].to(dtype), image_grid_thw=vision["image_grid_thw"], mm_token_type_ids=mm_types,
                       max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False, logits_processor=LogitsProcessorList([clock]),
                       eos_token_id=None, pad_token_id=0)
        end = time.perf_counter()
    first = clock.times[0] - start
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "weights": "int8 (dynamic quantisation) language model, f32 vision" if quantized else str(dtype).removeprefix("torch."),
        "grid_thw": vision["image_grid_thw"][0].tolist(),
        "time_to_first_token_s": first,
        "prefill_tokens_per_s": ids.shape[1] / first,
        "decode_tokens_per_s": (tokens - 1) / (end - clock.times[0]),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }))


if __name__ == "__main__":
    main()

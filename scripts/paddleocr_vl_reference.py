"""Reference outputs for the PaddleOCR-VL parity tests, from `transformers` + `torch` on CPU.

As for Qwen3-VL (scripts/vlm_reference.py): the real weights cannot be downloaded here, so the
reader is proven on a tiny random checkpoint of the same architecture. This script builds it with
transformers' own classes, saves it as the hub has PaddleOCR-VL (a flat config.json with the text
model's keys at the top, weights under `visual.vision_model.*`, `mlp_AR.*`, `model.*`), loads it
back through `from_pretrained` to prove the folder is what transformers reads, runs the reference
processor and model on a real page region and writes

  tests/fixtures/vlm/paddleocr-vl-tiny/            the checkpoint
  tests/fixtures/vlm/paddleocr-vl-tiny.expected.*  prompt, input ids, grid, pixel values, 3-D
                                                    position ids, vision embeddings, last logits,
                                                    greedy tokens
  tests/fixtures/vlm/paddleocr-vl-preprocess.*     the processor with PaddleOCR-VL's own settings
                                                    (14-px patches, 147,384..2,822,400 pixels) on
                                                    real pages: grids and per-patch statistics

Run: bash scripts/dev.sh vlm-reference

The chat template is a reconstruction of PaddleOCR-VL's ("User: <image>OCR:\nAssistant: "); Pagewise
renders whatever template a model ships.
"""

import json
import zlib

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import PaddleOCRVLConfig, PaddleOCRVLForConditionalGeneration, PreTrainedTokenizerFast
from transformers.models.paddleocr_vl.image_processing_pil_paddleocr_vl import PaddleOCRVLImageProcessorPil

from vlm_reference import EVAL, OUT, run_reference, train_bpe, write_expected_json, write_processor_stats

PAGE_IMAGE = "fields-receipts-sroie/images/000.jpg"
# A region of the receipt (left, top, right, bottom in pixels), as the reader sends regions.
REGION = (20, 40, 400, 200)
TASK = "OCR:"

SPECIAL = ["<unk>", "<s>", "</s>", "<|begin_of_sentence|>", "<|end_of_sentence|>", "<|IMAGE_START|>", "<|IMAGE_END|>",
           "<|IMAGE_PLACEHOLDER|>", "<|video_pad|>"]

CHAT_TEMPLATE = """{%- if not add_generation_prompt is defined -%}{%- set add_generation_prompt = true -%}{%- endif -%}
{{- "<|begin_of_sentence|>" -}}
{%- for message in messages -%}
    {%- if message["role"] == "user" -%}
        {{- "User: " -}}
        {%- for content in message["content"] -%}
            {%- if content["type"] == "image" -%}{{ "<|IMAGE_START|><|IMAGE_PLACEHOLDER|><|IMAGE_END|>" }}{%- endif -%}
        {%- endfor -%}
        {%- for content in message["content"] -%}
            {%- if content["type"] == "text" -%}{{ content["text"] }}{%- endif -%}
        {%- endfor -%}
        {{ "\\n" -}}
    {%- elif message["role"] == "assistant" -%}
        {{- "Assistant: " -}}
        {%- for content in message["content"] -%}
            {%- if content["type"] == "text" -%}{{ content["text"] }}{%- endif -%}
        {%- endfor -%}
        {{ "<|end_of_sentence|>" -}}
    {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- "Assistant: " -}}{%- endif -%}
"""


def tiny_tokenizer(path):
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=train_bpe(SPECIAL), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="<unk>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    (path / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    return tokenizer


def hub_config(tokenizer) -> dict:
    """config.json as the hub's PaddleOCR-VL has it: text keys at the top level."""
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}
    return {
        "architectures": ["PaddleOCRVLForConditionalGeneration"], "model_type": "paddleocr_vl",
        "vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "hidden_act": "silu",
        "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "use_bias": False,
        "rope_scaling": {"mrope_section": [2, 3, 3], "rope_type": "default", "type": "default"},
        "tie_word_embeddings": True, "use_cache": True,
        "pad_token_id": ids["<unk>"], "bos_token_id": ids["<s>"], "eos_token_id": ids["</s>"],
        "image_token_id": ids["<|IMAGE_PLACEHOLDER|>"], "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|IMAGE_START|>"], "vision_end_token_id": ids["<|IMAGE_END|>"],
        "vision_config": {
            "model_type": "paddleocr_vl_vision", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 2, "num_channels": 3, "image_size": 56, "patch_size": 14,
            "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-6, "spatial_merge_size": 2,
        },
    }


# transformers' names → the hub's (the inverse of its paddleocr_vl conversion mapping).
HUB_NAMES = [("model.projector.", "mlp_AR."), ("model.visual.", "visual."), ("model.language_model.", "model.")]


def hub_name(name: str) -> str:
    for ours, hub in HUB_NAMES:
        if name.startswith(ours):
            return hub + name[len(ours):]
    return name


def image_processor(min_pixels, max_pixels) -> PaddleOCRVLImageProcessorPil:
    return PaddleOCRVLImageProcessorPil(image_mean=[0.5] * 3, image_std=[0.5] * 3, min_pixels=min_pixels, max_pixels=max_pixels)


def main():
    torch.manual_seed(0)
    ckpt = OUT / "paddleocr-vl-tiny"
    ckpt.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_tokenizer(ckpt)
    config = hub_config(tokenizer)
    (ckpt / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    (ckpt / "generation_config.json").write_text(json.dumps({"eos_token_id": config["eos_token_id"]}) + "\n")
    processor = image_processor(28 * 28 * 4, 28 * 28 * 24)
    processor.save_pretrained(ckpt)

    built = PaddleOCRVLForConditionalGeneration(PaddleOCRVLConfig.from_pretrained(ckpt)).eval()
    # Larger weights than the init's 0.02 so that logits are far apart and greedy tokens stable.
    with torch.no_grad():
        for name, p in built.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.15, generator=torch.Generator().manual_seed(zlib.crc32(name.encode())))
    state = {hub_name(k): v.contiguous() for k, v in built.state_dict().items() if k != "lm_head.weight"}
    save_file(state, ckpt / "model.safetensors", metadata={"format": "pt"})
    # What the reference reads from the hub-shaped folder is what is tested.
    model = PaddleOCRVLForConditionalGeneration.from_pretrained(ckpt).eval()

    image = Image.open(EVAL / PAGE_IMAGE).convert("RGB").crop(REGION)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": TASK}]}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    vision = processor(images=[image], return_tensors="pt")
    grid = vision["image_grid_thw"]
    count = int(np.prod(grid[0].tolist())) // 4
    full_prompt = prompt.replace("<|IMAGE_PLACEHOLDER|>", "<|IMAGE_PLACEHOLDER|>" * count, 1)
    input_ids = tokenizer(full_prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        visual = model.model.get_image_features(vision["pixel_values"], grid)
    out, position_ids, deltas, new_tokens = run_reference(model, vision, input_ids, config["image_token_id"], tokenizer.pad_token_id)

    embeds = visual.pooler_output
    embeds = torch.cat(embeds) if isinstance(embeds, (list, tuple)) else embeds
    save_file({
        "pixel_values": vision["pixel_values"].float().contiguous(),
        "vision_embeds": embeds.float().contiguous(),
        "logits": out.logits[0].float().contiguous(),
        "position_ids": position_ids[:, 0].to(torch.int64).contiguous(),
    }, OUT / "paddleocr-vl-tiny.expected.safetensors")
    write_expected_json("paddleocr-vl-tiny", {"image": PAGE_IMAGE, "region": REGION, "task": TASK}, prompt, input_ids, grid, deltas, new_tokens,
                        tokenizer)

    # The processor with PaddleOCR-VL's own settings on real pages.
    real = image_processor(147384, 2822400)
    write_processor_stats("paddleocr-vl-preprocess", real)

if __name__ == "__main__":
    main()

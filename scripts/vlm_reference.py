"""Reference outputs for the vision-language parity tests, from `transformers` + `torch` on CPU.

The real weights cannot be downloaded here, so the Rust implementation is proven on a tiny random
checkpoint of the same architecture: this script builds it (same config keys, small dims, seeded
weights, a small byte-level BPE tokenizer with Qwen's special tokens), runs the reference processor
and model on a real page image, and writes

  tests/fixtures/vlm/qwen3-vl-tiny/            the checkpoint (config, tokenizer, chat template,
                                                preprocessor config, model.safetensors)
  tests/fixtures/vlm/qwen3-vl-tiny.expected.*  processor outputs (prompt, input ids, pixel values,
                                                grid, 3-D position ids), vision features, logits,
                                                greedy tokens and text
  tests/fixtures/vlm/qwen3-vl-preprocess.*     the processor with Qwen3-VL's own settings (16-px
                                                patches, 65,536..16,777,216 pixels) on real pages:
                                                grids and per-patch statistics

Run: bash scripts/dev.sh vlm-reference   (installs torch/transformers into .venv-torch first)

The chat template is a reconstruction of Qwen3-VL-Instruct's (the hub, where the real one lives, is
unreachable from here); Pagewise renders whatever template a model ships, so the test checks the
rendering machinery, not this template's wording.
"""

import json
import os
import sys
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import Qwen2TokenizerFast, Qwen3VLConfig, Qwen3VLForConditionalGeneration
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("PAGEWISE_EVAL", ROOT.parent / "shared" / "eval"))
OUT = ROOT / "tests" / "fixtures" / "vlm"
PAGE_IMAGE = "fields-receipts-sroie/images/000.jpg"
PREPROCESS_IMAGES = [
    "fields-receipts-sroie/images/000.jpg",
    "qa-finrag-income-statements/images/04e6302080a5015852fccae9a6d1d6c3f10d9ea7330528a6612524cccd2a8c5c_p92.jpg",
    "layout-publaynet-examples/images/PMC3777717_00006.jpg",
]
QUESTION = "What is the total amount?"
NEW_TOKENS = 12

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]

CHAT_TEMPLATE = """{%- if messages[0].role == 'system' %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0].content is string %}{{- messages[0].content }}{%- else %}{%- for content in messages[0].content %}{%- if 'text' in content %}{{- content.text }}{%- endif %}{%- endfor %}{%- endif %}
    {{- '<|im_end|>\\n' }}
{%- endif %}
{%- set image_count = namespace(value=0) %}
{%- for message in messages %}
    {%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' }}
        {%- if message.content is string %}
            {{- message.content }}
        {%- else %}
            {%- for content in message.content %}
                {%- if content.type == 'image' or 'image' in content or 'image_url' in content %}
                    {%- set image_count.value = image_count.value + 1 %}
                    {%- if add_vision_id %}Picture {{ image_count.value }}: {% endif -%}
                    <|vision_start|><|image_pad|><|vision_end|>
                {%- elif 'text' in content %}
                    {{- content.text }}
                {%- endif %}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == 'assistant' %}
        {{- '<|im_start|>assistant\\n' }}
        {%- if message.content is string %}{{- message.content }}{%- else %}{%- for content in message.content %}{%- if 'text' in content %}{{- content.text }}{%- endif %}{%- endfor %}{%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

CORPUS = """Invoice number 2024-117 dated 12 March 2024. Total amount due: 1,234.56 EUR.
Receipt TOTAL 52.30 CASH 60.00 CHANGE 7.70 GST 6% Thank you, please come again.
What is the total amount? Who is the vendor? The answer is on the page, in the table.
Revenue, cost of sales, gross profit, operating income, net income for the year ended December 31.
The quick brown fox jumps over the lazy dog 0123456789 ()[]{}<>:;,.!?'"-/+=%$#&*@
"""


def train_bpe(special: list) -> Tokenizer:
    """A 400-token byte-level BPE trained on CORPUS, with the model's special tokens."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=special)
    bpe.train_from_iterator([CORPUS] * 20, trainer)
    return bpe


def tiny_tokenizer(path: Path) -> Qwen2TokenizerFast:
    tokenizer = Qwen2TokenizerFast(tokenizer_object=train_bpe(SPECIAL), eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    # As Qwen3-VL's hub folder has it: the template in chat_template.json.
    (path / "chat_template.jinja").unlink(missing_ok=True)
    (path / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}, indent=1) + "\n")
    return tokenizer


def tiny_config(tokenizer) -> Qwen3VLConfig:
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}
    return Qwen3VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, hidden_act="silu", max_position_embeddings=4096, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 5_000_000.0, "mrope_section": [4, 2, 2], "mrope_interleaved": True},
            tie_word_embeddings=True, initializer_range=0.08,
        ),
        vision_config=dict(
            depth=3, hidden_size=32, intermediate_size=64, num_heads=2, in_channels=3, patch_size=16, spatial_merge_size=2,
            temporal_patch_size=2, out_hidden_size=64, num_position_embeddings=64, deepstack_visual_indexes=[0, 1],
            hidden_act="gelu_pytorch_tanh", initializer_range=0.08,
        ),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )


def image_processor(**size) -> Qwen2VLImageProcessorPil:
    return Qwen2VLImageProcessorPil(patch_size=16, temporal_patch_size=2, merge_size=2, image_mean=[0.5] * 3, image_std=[0.5] * 3, size=size)


def expand_image_tokens(prompt: str, grid, merge: int) -> str:
    # What Qwen3VLProcessor does with <|image_pad|>: one per merged patch.
    count = int(np.prod(grid)) // (merge * merge)
    return prompt.replace("<|image_pad|>", "<|image_pad|>" * count, 1)


def run_reference(model, vision, input_ids, image_token_id, pad_token_id):
    """The reference's 3-D positions, forward pass and NEW_TOKENS greedy tokens for one prompt and
    image; prints the top-2 logit margin (greedy tokens are only stable when it is not tiny)."""
    grid = vision["image_grid_thw"]
    mm_types = (input_ids == image_token_id).int()
    with torch.no_grad():
        position_ids, deltas = model.model.get_rope_index(input_ids, mm_types, image_grid_thw=grid)
        out = model(input_ids=input_ids, pixel_values=vision["pixel_values"], image_grid_thw=grid, mm_token_type_ids=mm_types)
        generated = model.generate(
            input_ids=input_ids, pixel_values=vision["pixel_values"], image_grid_thw=grid, mm_token_type_ids=mm_types,
            max_new_tokens=NEW_TOKENS, do_sample=False, eos_token_id=None, pad_token_id=pad_token_id,
        )
    new_tokens = generated[0, input_ids.shape[1]:].tolist()
    top2 = torch.topk(out.logits[0, -1], 2).values
    print(f"grid {grid.tolist()}, {input_ids.shape[1]} prompt tokens, top-2 logit margin {float(top2[0] - top2[1]):.3f}", file=sys.stderr)
    return out, position_ids, deltas, new_tokens


def write_expected_json(name, about, prompt, input_ids, grid, deltas, new_tokens, tokenizer):
    """NAME.expected.json: what the test was given (`about`), the prompt and ids, the grid, the rope
    delta, the greedy tokens and the versions that produced them."""
    (OUT / f"{name}.expected.json").write_text(json.dumps({
        **about,
        "prompt": prompt,
        "input_ids": input_ids[0].tolist(),
        "image_grid_thw": grid[0].tolist(),
        "rope_delta": int(deltas[0]),
        "greedy_tokens": new_tokens,
        "greedy_text": tokenizer.decode(new_tokens, skip_special_tokens=False),
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
    }, indent=1) + "\n")


def write_processor_stats(name, processor):
    """NAME.expected.*: the processor's grid on each of PREPROCESS_IMAGES, and per image the mean of
    every patch row and the first, middle and last rows themselves."""
    stats, tensors = [], {}
    for i, rel in enumerate(PREPROCESS_IMAGES):
        page = Image.open(EVAL / rel).convert("RGB")
        res = processor(images=[page], return_tensors="pt")
        pv = res["pixel_values"].float().flatten(1)
        stats.append({"image": rel, "size": list(page.size), "grid_thw": res["image_grid_thw"][0].tolist(), "patches": pv.shape[0]})
        tensors[f"patch_mean_{i}"] = pv.mean(dim=1)
        tensors[f"rows_{i}"] = pv[[0, pv.shape[0] // 2, pv.shape[0] - 1]]
    save_file(tensors, OUT / f"{name}.expected.safetensors")
    (OUT / f"{name}.expected.json").write_text(json.dumps(stats, indent=1) + "\n")


def main():
    torch.manual_seed(0)
    ckpt = OUT / "qwen3-vl-tiny"
    ckpt.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_tokenizer(ckpt)
    config = tiny_config(tokenizer)
    config.save_pretrained(ckpt)
    processor = image_processor(shortest_edge=32 * 32 * 4, longest_edge=32 * 32 * 24)
    processor.save_pretrained(ckpt)

    model = Qwen3VLForConditionalGeneration(config).eval()
    model.generation_config.save_pretrained(ckpt)
    # Larger weights than the init's 0.02 so that logits are far apart and greedy tokens stable.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.15, generator=torch.Generator().manual_seed(zlib.crc32(name.encode())))
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file(state, ckpt / "model.safetensors", metadata={"format": "pt"})

    image = Image.open(EVAL / PAGE_IMAGE).convert("RGB")
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    vision = processor(images=[image], return_tensors="pt")
    grid = vision["image_grid_thw"]
    full_prompt = expand_image_tokens(prompt, grid[0].tolist(), 2)
    input_ids = tokenizer(full_prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        visual = model.model.visual(vision["pixel_values"], grid_thw=grid)
    out, position_ids, deltas, new_tokens = run_reference(model, vision, input_ids, config.image_token_id, tokenizer.pad_token_id)

    tensors = {
        "pixel_values": vision["pixel_values"].float(),
        "vision_embeds": visual.pooler_output.float(),
        "logits": out.logits[0].float(),
        "position_ids": position_ids[:, 0].to(torch.int64),
    }
    for i, d in enumerate(visual.deepstack_features):
        tensors[f"deepstack_{i}"] = d.float()
    save_file(tensors, OUT / "qwen3-vl-tiny.expected.safetensors")
    write_expected_json("qwen3-vl-tiny", {"image": PAGE_IMAGE, "question": QUESTION}, prompt, input_ids, grid, deltas, new_tokens, tokenizer)

    # The processor with Qwen3-VL's own settings on real pages.
    real = image_processor(shortest_edge=65536, longest_edge=16777216)
    write_processor_stats("qwen3-vl-preprocess", real)


if __name__ == "__main__":
    main()

"""Reference sentence embeddings for the parity test of the candle MiniLM embedder.

all-MiniLM-L6-v2 (BERT) written out in numpy from the model's own safetensors and tokenized by
Hugging Face `tokenizers` (the Rust tokenizer behind transformers), pooled as sentence-transformers
does (mean over real tokens, L2 norm). PyTorch would be the usual reference, but its PyPI wheels
are gigabytes; this numpy BERT is the plain textbook forward pass, independent of candle.

    .venv-reference/bin/python scripts/embed_reference.py  # writes tests/fixtures/embed/expected.json
"""
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.environ.get("PAGEWISE_MODELS", os.path.join(ROOT, ".models"))
TEXTS = [
    "What is the total amount of the invoice?",
    "Amount due",
    "Invoice number",
    "Rechnungsdatum",
    "This Agreement shall be governed by the laws of the State of Delaware.",
    "Total revenues",
]


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(text, tok, w, cfg):
    tok.no_padding()
    tok.enable_truncation(128)
    enc = tok.encode(text)
    ids = np.array(enc.ids)
    n, h, heads = len(ids), cfg["hidden_size"], cfg["num_attention_heads"]
    d = h // heads
    p = "embeddings."
    x = w[p + "word_embeddings.weight"][ids] + w[p + "position_embeddings.weight"][:n] + w[p + "token_type_embeddings.weight"][0]
    x = layer_norm(x, w[p + "LayerNorm.weight"], w[p + "LayerNorm.bias"])
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda t, name: t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q, k, v = (lin(x, f"attention.self.{m}").reshape(n, heads, d).transpose(1, 0, 2) for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        att = (scores / scores.sum(-1, keepdims=True)) @ v
        att = att.transpose(1, 0, 2).reshape(n, h)
        x = layer_norm(x + lin(att, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        ff = lin(gelu(lin(x, "intermediate.dense")), "output.dense")
        x = layer_norm(x + ff, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    v = x.mean(0)
    return v / np.linalg.norm(v), len(ids)


def main():
    weights = os.path.join(MODELS, "all-MiniLM-L6-v2.safetensors")
    if not os.path.isfile(weights):
        sys.exit(f"{weights} missing: run `bash scripts/dev.sh models` first")
    w = {k.removeprefix("bert."): v.astype(np.float64) for k, v in load_file(weights).items()}
    cfg = json.load(open(os.path.join(MODELS, "all-MiniLM-L6-v2.config.json")))
    tok = Tokenizer.from_file(os.path.join(MODELS, "all-MiniLM-L6-v2.tokenizer.json"))
    out = []
    for t in TEXTS:
        v, n = embed(t, tok, w, cfg)
        out.append({"text": t, "tokens": n, "embedding": [round(float(x), 6) for x in v]})
    dest = os.path.join(ROOT, "tests", "fixtures", "embed", "expected.json")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    json.dump({"model": "all-MiniLM-L6-v2", "reference": "numpy BERT (scripts/embed_reference.py)", "texts": out}, open(dest, "w"), indent=1)
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()

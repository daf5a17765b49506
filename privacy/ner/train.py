"""Train Airlock's NER component on the synthetic corpus: `python -m privacy.ner.train`.

CPU only, seeded, one thread: the same seed and corpus size give the same weights. The model is
small (hash embeddings, 64 wide, 2 layers) so it trains in minutes and adds little per record.
Writes the pipeline to MODEL_DIR and its files' SHA-256 to MODEL_DIR/SHA256SUMS, which
recognizers/trained_ner.py checks before loading. `--if-missing` makes it a no-op when a
verified model is already there (the setup step).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
from pathlib import Path

from privacy.ner.corpus import LABELS, CorpusMaker

MODEL_DIR = Path(os.environ.get("AIRLOCK_NER_DIR", Path(__file__).parent / "model"))
SEED = 20261202
_MODEL = {
    "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
    "hidden_width": 64, "maxout_pieces": 2, "use_upper": True, "nO": None,
    "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None, "width": 64,
                "depth": 2, "embed_size": 2000, "window_size": 1, "maxout_pieces": 3, "subword_features": True},
}


def checksums(directory: Path) -> dict[str, str]:
    """SHA-256 of every file of a saved pipeline, by relative path (the checksum file aside)."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file() and p.name != "SHA256SUMS"}


def verified(directory: Path = MODEL_DIR) -> bool:
    """True when the directory holds a model whose files match its SHA256SUMS."""
    sums = directory / "SHA256SUMS"
    if not sums.is_file():
        return False
    expected = dict(line.split("  ", 1)[::-1] for line in sums.read_text().splitlines() if line)
    return expected == checksums(directory)


def train(out: Path = MODEL_DIR, examples: int = 4000, epochs: int = 6, seed: int = SEED) -> Path:
    import spacy
    from spacy.training import Example
    from spacy.util import compounding, fix_random_seed, minibatch

    fix_random_seed(seed)
    maker = CorpusMaker(seed)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner", config={"model": _MODEL})
    for label in LABELS:
        ner.add_label(label)
    data = []
    for _ in range(examples):
        text, spans = maker.example()
        doc = nlp.make_doc(text)
        ents = [doc.char_span(s, e, label=l, alignment_mode="contract") for s, e, l in spans]
        data.append(Example.from_dict(doc, {"entities": [(s.start_char, s.end_char, s.label_) for s in ents if s]}))
    optimizer = nlp.initialize(lambda: data)
    order = random.Random(seed)
    for epoch in range(epochs):
        order.shuffle(data)
        losses: dict[str, float] = {}
        for batch in minibatch(data, size=compounding(8.0, 64.0, 1.5)):
            nlp.update(batch, sgd=optimizer, drop=0.2, losses=losses)
        print(f"epoch {epoch + 1}/{epochs}: loss {losses.get('ner', 0):.1f}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    (out / "SHA256SUMS").write_text("".join(f"{h}  {p}\n" for p, h in checksums(out).items()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Train Airlock's NER component (CPU, seeded).")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--examples", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--if-missing", action="store_true", help="do nothing when a verified model exists")
    args = parser.parse_args()
    if args.if_missing and verified(args.out):
        print(f"NER model present and verified: {args.out}")
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"trained: {train(args.out, args.examples, args.epochs, args.seed)}")


if __name__ == "__main__":
    main()

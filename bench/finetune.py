"""Fine-tuning speed: DP-LoRA (Opacus) vs plain LoRA on the same records, and the time DP-LoRA
needs to reach its target ε on 1,000 records.

    .venv/bin/python bench/finetune.py [--records 48] [--epsilon 8] [--threads N]

Both runs use the same base (the store's default SmolLM2), the same tokenized records, batch size,
rank and sequence length; only the one DP call differs. Prints examples/s of both and the ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/api.py would shadow the api package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def records(n: int, seed: int = 0) -> list[dict]:
    """Ticket-like scrubbed records of ~40 words (~80 tokens with the request)."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        body = fake.sentence(nb_words=18) + " " + fake.sentence(nb_words=14)
        text = f"<PERSON_1> reports: {body} Reach me at <PHONE_NUMBER_1>."
        out.append({"id": f"B-{i:04d}", "kind": "ticket", "label": rng.choice(["billing", "access", "outage"]), "text": text})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--epsilon", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import torch

    from api.settings import Settings
    from synth.finetune.config import FinetuneConfig
    from synth.finetune.data import Tokenizer, render_examples
    from synth.finetune.guarantee import plan_privacy
    from synth.finetune.training import add_lora, load_base, train
    from synth.store import ModelStore

    if args.threads:
        torch.set_num_threads(args.threads)
    base = ModelStore(Settings().models_dir).get()
    data = records(args.records)
    examples, _ = render_examples(data)
    tokenizer = Tokenizer(base.path)
    encoded = [tokenizer.encode(e, 160) for e in examples]
    tokenizer.close()
    mean_tokens = sum(len(e.ids) for e in encoded) / len(encoded)
    config = FinetuneConfig(epochs=1, batch_size=args.batch_size, lora_r=8, max_length=160, seed=0)
    plan = plan_privacy(len(encoded), epsilon=args.epsilon, delta=None, batch_size=args.batch_size,
                        epochs=1, clip_norm=1.0, accountant="rdp")

    model = load_base(base)
    speeds = {}
    for label, dp_plan in (("LoRA (no DP)", None), ("DP-LoRA", plan)):
        lora_model = add_lora(model, config)
        started = time.perf_counter()
        train(lora_model, encoded, config, dp_plan, run_key=label)
        seconds = time.perf_counter() - started
        speeds[label] = len(encoded) / seconds
        model = lora_model.unload()
        print(f"{label:>14}: {speeds[label]:.2f} examples/s ({len(encoded)} records of ~{mean_tokens:.0f} tokens, "
              f"batch {args.batch_size}, {seconds:.1f} s)")
    ratio = speeds["DP-LoRA"] / speeds["LoRA (no DP)"]
    print(f"DP-LoRA / LoRA speed ratio: {ratio:.2f}× ({torch.get_num_threads()} torch threads, CPU)")

    big = plan_privacy(1000, epsilon=args.epsilon, delta=None, batch_size=16, epochs=2, clip_norm=1.0, accountant="rdp")
    passes = big.steps * big.sample_rate * big.units
    print(f"1,000 records to ε={args.epsilon:g} (δ={big.delta:.2g}, batch 16, 2 epochs, σ={big.noise_multiplier:.3f}, "
          f"{big.steps} steps): ~{passes / speeds['DP-LoRA'] / 60:.1f} min at the measured DP-LoRA speed")


if __name__ == "__main__":
    main()

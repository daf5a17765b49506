"""Candidate selection: write k drafts per requested record, keep per label the ones the label judge
reads most surely as their label (Anaby-Tavor et al., "Do not have enough data? Deep learning to the
rescue!", AAAI 2020: LAMBADA's filter).

A model fine-tuned on a few records writes realistic text whose label is often only faintly there: a
classifier trained on it learns less than one trained on the records themselves. The label judge
(synth/judge.py, trained on the real training split) scores every draft that passed the filters by the
probability it gives the asked label; of the k × c candidates of a label, the c most probable are kept,
so the requested label counts stay exact. Candidates left out are not rejections (each passed every
filter); the summary counts them under `candidates`. A draft the judge reads as another label than the
one asked becomes a candidate of that label (`candidates.relabelled`; its `_provenance.asked` keeps the
asked conditions) rather than a rejection. Each candidate slot gets one try; a failed one is tried again
only while its label has fewer candidates than records asked of it, and a label still short (its
candidates relabelled away) gets new slots, within the job's attempt budget (synth/generate.py
`_candidates`).

Measured on BBC News ledes (bench/utility.py, SmolLM2 fine-tuned on the 100 scrubbed training records,
3 epochs, four generations of 100 on one task draw pooled post hoc, 2026-12-07, AMD EPYC 2 cores):

| | one generation (mean) | top 20 per label of 2 / 3 / 4 generations | 20 per label at random from 4 |
|---|---|---|---|
| LoRA, dev draw 0: TSTR ratio | 0.734 | 0.834 / 0.850 / 0.882 | 0.765 |
| LoRA, dev draw 1: TSTR ratio | 0.792 | 0.892 / 0.906 / 0.952 | 0.825 |
| DP-LoRA ε = 8, dev draw 0: TSTR ratio | 0.608 | 0.690 / 0.707 / 0.782 | 0.613 |

(means over the pairs and triples of generations; random: 10 draws). The discriminator AUC fell for LoRA
(0.593 / 0.531 for one generation, 0.544 / 0.489 selected from four) and barely moved for DP (0.941 → 0.947). Best-of-k per
slot instead of per label read less (draw 0, k = 4: 0.852). Four candidates cost four times the
generation (400 attempts per 100 records); their first tries are independent, so synth/generate.py decodes
them together (synth/batch.py: 16 sequences per llama.cpp step read the weights once for all) — except
for a model fine-tuned under DP. Measured on one DP-LoRA ε = 8 adapter (dev draw 0, bench/utility.py
`--parallel`, 2026-12-07, AMD EPYC 2 cores): TSTR ratio 0.82 / 0.79 one at a time against 0.78 / 0.65
(calls made per window of 128, the vocabulary bias held for the window) and 0.72 / 0.78 (each call
made as a sequence freed, the bias of the moment) decoded together; held-out draw 1 (a fresh DP adapter,
windows) read 0.739 and 0.797 one at a time on the same adapter (three earlier adapters: 0.777–0.783). Generations
spread ±0.06, so this does not prove harm, but the DP goal (0.75) has no margin for it. LoRA lost
nothing with windows (held-out draw 0: 0.922 (0.887 / 0.958), AUC 0.524, against 0.895 / 0.425 one at a
time with another adapter; 0.864, AUC 0.587, in a second run of the same adapter); the same adapter with
each call made as a sequence freed read 0.848 (0.838 / 0.859), AUC 0.582, so windows are kept
(synth/generate.py `TOGETHER_PER_SEQUENCE`).
bench/synth.py section 3 sets the fine-tuned path's kept records per CPU-minute against the path
before issue 12, and against the same path decoding one call at a time, in the same run.

The judge reads the training records: a DP model's records selected by it fall outside ε, as the label
check's do (api/card.py DP_SCOPE); `label_check: false` turns both off. On Ray each shard of records
(synth/parallel.py) selects among its own candidates only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from synth.judge import LabelJudge
from synth.steer import condition_key

FINETUNED_CANDIDATES = 4  # candidates per record for a model fine-tuned on the task: the table above


@dataclass
class Selection:
    """k candidates per record, chosen per condition by the judge's probability of the asked label."""

    k: int
    judge: LabelJudge
    label_field: str

    def score(self, texts: list[str], conditions: dict) -> float:
        return self.judge.probability(" ".join(texts), conditions.get(self.label_field))

    def relabel(self, texts: list[str], conditions: dict) -> dict | None:
        """The conditions of the label the judge reads in a draft it disagrees with (None: it reads
        the asked label): such a draft becomes a candidate of that label instead of a rejection."""
        label = self.judge.top(" ".join(texts))
        if str(label) == str(conditions.get(self.label_field)):
            return None
        return {**conditions, self.label_field: label}

    def choose(self, candidates: list[dict], ranking: dict[int, tuple[str, float]], tasks: list,
               id_field: str | None) -> list[dict]:
        """For each task of the plan (in slot order), the best unused candidate of its conditions,
        renumbered to the task's slot (`_provenance.candidate` keeps the candidate's). `ranking` gives
        each candidate's slot its condition key and score."""
        pools: dict[str, list[dict]] = defaultdict(list)
        for record in candidates:
            pools[ranking[record["_provenance"]["slot"]][0]].append(record)
        for pool in pools.values():
            pool.sort(key=lambda r: -ranking[r["_provenance"]["slot"]][1])
        chosen = []
        for task in tasks:
            pool = pools.get(condition_key(task.conditions))
            if pool:
                chosen.append(_renumbered(pool.pop(0), task.slot, id_field))
        return chosen


def _renumbered(record: dict, slot: int, id_field: str | None) -> dict:
    provenance = {**record["_provenance"], "candidate": record["_provenance"]["slot"], "slot": slot}
    record = {**record, "_provenance": provenance}
    if id_field and id_field in record:
        record[id_field] = f"syn-{slot + 1:06d}"
    return record

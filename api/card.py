"""The dataset card that travels with a release: what the data is, how it was made, what the audit found.

Written for the person who receives the bundle, not for an engineer. Built from the run's
checkpoint and the signed report; it holds counts, hashes and figures — never record content.
"""

from __future__ import annotations

from api.policy import Policy


def _figure(check: dict) -> str:
    if check.get("figure") is None:
        return "—"
    low, high = (check.get("ci") or (None, None))[:2]
    interval = f" ({low:.3g}–{high:.3g})" if low is not None and high is not None else ""
    return f"{check['figure']:.3g}{interval}, threshold {check.get('threshold', '—')}"


# An auditor's reading of ε: it bounds the training, not the steps after it that read the real records.
DP_SCOPE = (
    "   - What ε covers: the fine-tuning only. The records were then sampled from the model and selected\n"
    "     by steps that read the scrubbed training records too: the filters against copies of them and\n"
    "     against their PII values, the label-consistency classifier (which also chose among candidates)\n"
    "     and the vocabulary balance (where on), and the audit whose pass released them.\n"
    "     ε does not bound what those steps reveal; the audit's figures below are what this release\n"
    "     shows about the training records.\n"
)


def _generation_line(generation: dict | None) -> str:
    if not generation:
        return ""
    rejected = ", ".join(f"{k} {v}" for k, v in generation.get("rejected", {}).items()) or "none"
    line = (f"   - {generation.get('delivered')} of {generation.get('requested')} requested records in "
            f"{generation.get('attempts')} attempts; {generation.get('rejection_rate', 0):.0%} of attempts "
            f"rejected ({rejected}).\n")
    if candidates := generation.get("candidates"):
        line += (f"   - {candidates['per_record']} candidates written per record ({candidates['written']} in all, "
                 f"{candidates.get('relabelled', 0)} under the label the label-consistency classifier read instead "
                 "of the one asked); of each label, the ones it read most surely as that label were kept.\n")
    return line


def dataset_card(run_id: str, policy: Policy, checkpoint: dict, report: dict, signing_fingerprint: str = "?") -> str:
    counts, timings, state = checkpoint["counts"], checkpoint["timings"], checkpoint["state"]
    model = state.get("model", {})
    finetuned = state.get("finetune") if state.get("models", {}).get("finetuned") else None
    made_with = "fine-tuned on the scrubbed training split, then sampled" if finetuned else "sampled"
    privacy_of_training = f"   - The model was {finetuned['guarantee']}.\n" if finetuned else ""
    if finetuned and finetuned.get("differential_privacy"):
        privacy_of_training += DP_SCOPE
    if finetuned and finetuned.get("records_cut"):
        privacy_of_training += (f"   - {finetuned['records_cut']} training records were longer than "
                                f"{finetuned.get('max_length')} tokens; the model learned their start only.\n")
    if choice := state.get("finetune_choice"):
        minutes = f"{timings['finetune'] / 60:.1f} min of training; " if finetuned and "finetune" in timings else ""
        privacy_of_training += f"   - Fine-tuning: {minutes}{choice['reason']}.\n"
    rows = "\n".join(
        f"| {c.get('title', c['name'])} | {c['status']} | {_figure(c)} | {c.get('summary') or c.get('reason', '')} |"
        for c in report.get("checks", [])
    )
    entities = ", ".join(f"{k} {v}" for k, v in sorted(counts.get("findings_by_entity", {}).items())) or "none"
    return f"""# Dataset card — Airlock release {run_id}

**Every record in this dataset is synthetic.** It was written by a language model and labelled
`"_synthetic": true`, with its provenance in `_provenance`. No record is a real person's record.

## What it is
- {counts.get('synthetic', '?')} synthetic records (`synthetic.jsonl`), modelled on
  {counts.get('records', '?')} source records under the policy `{policy.name}`.
- Audit report: `report.json` (machine-readable), `report.html` (for people), signed with Ed25519
  (`report.json.sig`). Check it offline against the issuing site's public key **obtained from that
  site**, not from this bundle: `airlock report verify report.json --public-key SITE-KEY.pem`, or pin
  the site's fingerprint in `AIRLOCK_TRUSTED_SIGNING_KEYS`. The key that signed it has fingerprint
  `sha256:{signing_fingerprint}`; the bundle's `signing-key.pub` is there only to compare with it — a
  forger would replace it along with the report.

## How it was made
1. **Scrubbed**: personal data was detected and replaced before the model saw anything
   ({counts.get('findings', '?')} findings: {entities}). Raw values were never stored.
2. **Split**: {counts.get('holdout', '?')} scrubbed records were held out (never shown to the model)
   so the audit can compare what the data reveals about training records against non-members.
3. **Synthesized**: the model was {made_with} on {counts.get('train', '?')} scrubbed training records.
   - Model: `{model.get('name', '?')}`, SHA-256 `{model.get('sha256', '?')}`{_adapter(model)}.
{_generation_line(state.get("generation"))}{privacy_of_training}4. **Audited**: the checks below ran; the gate is fail-closed and this release passed it.

## Privacy and utility figures
Lower is safer for every figure; the interval is the confidence interval of the estimate.

| Check | Status | Figure (interval), threshold | In plain words |
|---|---|---|---|
{rows}

## Limits
- Synthetic data can still reflect patterns, and biases, of the source data.
- The figures are estimates on this run's data with the stated intervals, not guarantees; only a
  model fine-tuned with differential privacy carries a formal guarantee (ε, δ), on its training,
  stated above with what it does not cover.
- Report id: `{report.get('report_id', '?')}`; created {report.get('created_at', '?')}.
"""


def _adapter(model: dict) -> str:
    """A fine-tuned model's LoRA adapter, which llama.cpp applied to the model file above."""
    return f" with its LoRA adapter, SHA-256 `{model['adapter_sha256']}`" if model.get("adapter_sha256") else ""

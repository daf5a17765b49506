"""Quality control from the field: label-consistency judge and keyword steering, on real records."""

from __future__ import annotations

import random
import re
from collections import Counter

from synth.judge import LabelJudge
from synth.steer import KeywordSampler, condition_key


def keyed(records):
    return [r["text"] for r in records], [condition_key({"label": r["label"]}) for r in records]


def test_keywords_characterise_their_label_and_come_from_several_records(records):
    texts, keys = keyed(records)
    sampler = KeywordSampler(texts, keys, min_records=2)
    billing = condition_key({"label": "billing"})
    assert sampler.weights[billing], "billing tickets share words no other label uses"
    for key, weights in sampler.weights.items():
        own = [t.lower() for t, k in zip(texts, keys) if k == key]
        for word in weights:
            assert word == word.lower() and not word.startswith("<")
            assert sum(bool(re.search(rf"\b{re.escape(word)}\b", t)) for t in own) >= 2, word
            # a keyword is used more often under its own label than elsewhere
            other = [t.lower() for t, k in zip(texts, keys) if k != key]
            share_own = sum(word in t for t in own) / len(own)
            assert share_own > sum(word in t for t in other) / len(other)


def test_draws_follow_the_weights_and_an_unknown_key_draws_nothing(records):
    sampler = KeywordSampler(*keyed(records), min_records=2)
    key = max(sampler.weights, key=lambda k: len(sampler.weights[k]))
    rng = random.Random(0)
    drawn = Counter(sampler.draw(key, rng) for _ in range(2000))
    weights = sampler.weights[key]
    top = max(weights, key=weights.get)
    assert set(drawn) <= set(weights) and drawn.most_common(1)[0][0] == top
    assert sampler.draw(condition_key({"label": "unseen"}), rng) is None


def test_judge_reads_labels_like_the_real_records_do(records):
    judge = LabelJudge.fit([r["text"] for r in records], [r["label"] for r in records])
    billing = "I was charged twice this month; please refund the second payment on my invoice."
    assert judge.agrees(billing, "billing") and not judge.agrees(billing, "shipping")
    assert judge.agrees(billing, "never-seen-label")  # no opinion on a label it never saw
    # every real record is read as its own label (the judge is lenient, not a coin)
    assert all(judge.agrees(r["text"], r["label"]) for r in records)


def test_a_job_s_second_judge_reuses_the_first_one_s_classifier_with_its_own_ratio(records):
    """The label filter and the candidate selection fit the same records: one fit, each its own ratio;
    other records or another seed fit anew."""
    texts, labels = [r["text"] for r in records], [r["label"] for r in records]
    lenient, strict = LabelJudge.fit(texts, labels, ratio=0.1), LabelJudge.fit(texts, labels, ratio=1.0)
    assert strict.model is lenient.model
    draft = "My parcel was charged twice and never arrived."
    probabilities = dict(zip(lenient.labels, lenient.model.predict_proba([draft])[0]))
    second = sorted(probabilities, key=probabilities.get)[-2]
    assert lenient.agrees(draft, second) and not strict.agrees(draft, second)
    assert LabelJudge.fit(texts, labels, seed=1).model is not strict.model
    assert LabelJudge.fit(texts[1:], labels[1:]).model is not strict.model


def test_no_judge_for_a_single_label(records):
    assert LabelJudge.fit([r["text"] for r in records], ["same"] * len(records)) is None


def test_plan_shares_example_sets_in_runs_and_asks_for_real_keywords(records):
    from synth.generate import SynthRequest, build_context
    from synth.modes import get_mode
    from synth.modes.common import fewshot_messages

    mode = get_mode("classify")
    request = SynthRequest(mode="classify", n=12, seed=5, k=2, label_field="label", share_examples=4,
                           shape_length=True)
    ctx = build_context(records, request, mode)
    tasks = mode.plan(ctx)
    assert sorted(t.slot for t in tasks) == list(range(12))
    runs: dict = {}
    for position, task in enumerate(tasks):  # a group's tasks run one after another, on one example set
        runs.setdefault(task.data["group"], []).append((position, task))
    for members in runs.values():
        positions = [p for p, _ in members]
        assert positions == list(range(positions[0], positions[0] + len(positions))) and len(members) <= 4
        assert len({tuple(t.sources) for _, t in members}) == 1
    assert Counter(t.conditions["label"] for t in tasks) == {"billing": 4, "login": 4, "shipping": 4}
    for task in tasks:
        hint = task.data.get("hint")
        key = condition_key(task.conditions)
        assert hint is None or hint in ctx.keywords.weights[key]
        assert task.data["sentences"] in ctx.lengths.counts[key]  # a length some real record has
        messages = fewshot_messages(ctx, task)
        assert not hint or f'"{hint}"' in messages[-1]["content"]
        # the shared prefix: everything but the last request is the same within a group
        same_group = [t for _, t in runs[task.data["group"]]]
        assert all(fewshot_messages(ctx, t)[:-1] == messages[:-1] for t in same_group)


def test_lengths_are_drawn_from_the_real_records_and_replies_cut_to_them(records):
    from synth.steer import LengthSampler, cut_to, sentence_count

    texts, keys = keyed(records)
    sampler = LengthSampler(texts, keys)
    rng = random.Random(3)
    for key in set(keys):
        own = Counter(sentence_count(t) for t, k in zip(texts, keys) if k == key)
        drawn = Counter(sampler.draw(key, rng) for _ in range(300))
        assert set(drawn) == set(own)  # every count the real records use, and no other
    assert sampler.draw(condition_key({"label": "unseen"}), rng) is None
    reply = 'Shares in <ORGANIZATION_1> rose 3.5% on Monday. The firm said "profits were up." Analysts were surprised.'
    assert cut_to(reply, 2) == 'Shares in <ORGANIZATION_1> rose 3.5% on Monday. The firm said "profits were up."'
    assert cut_to(reply, 5) == reply and sentence_count(cut_to(reply, 1)) == 1


def test_classify_replies_keep_the_sentence_count_their_task_drew(records, engine):
    from synth.engine import Sampling
    from synth.generate import SynthRequest, synthesize
    from synth.steer import sentence_count
    from tests.synth.test_dedup import as_drafted

    request = SynthRequest(mode="classify", n=6, seed=4, k=2, label_field="label", sampling=Sampling(max_tokens=64),
                           shape_length=True)
    result = synthesize(records, request, engine)
    assert len(result.records) >= 4, result.summary
    real_counts = {sentence_count(r["text"]) for r in records}
    for record in result.records:  # as drafted: a filled "Dr. Jane Roe" would read as a sentence break
        assert sentence_count(as_drafted(record)) <= max(real_counts)


def test_fewshot_anchors_follow_the_input_labels_exactly(records):
    """fewshot's conditions follow the input's distribution by largest remainder, not by a random
    draw (which gave one cardiology note of 40 where the input has eight times that share)."""
    from synth.generate import SynthRequest, build_context
    from synth.modes import get_mode

    mode = get_mode("fewshot")
    observed = Counter(r["label"] for r in records)
    for n in (7, len(records) + 5):
        ctx = build_context(records, SynthRequest(mode="fewshot", n=n, seed=3, k=2, label_field="label"), mode)
        tasks = mode.plan(ctx)
        got = Counter(t.conditions["label"] for t in tasks)
        assert sum(got.values()) == n
        for label, count in observed.items():  # each label's share of n, rounded down or up
            share = n * count / len(records)
            assert int(share) <= got[label] <= int(share) + 1, (label, got)


def test_a_policy_can_switch_the_label_judge_off(records):
    from synth.filters import job_filters
    from synth.generate import build_context
    from synth.modes import get_mode
    from synth.policy import SynthPolicy

    def filters(policy):
        request = policy.request(mode="classify", n=4, label_field="label", text_fields=["text"])
        return {f.name for f in job_filters(build_context(records, request, get_mode("classify")))}

    assert "label_consistency" in filters(SynthPolicy())
    assert "label_consistency" not in filters(SynthPolicy.model_validate({"label_check": False}))

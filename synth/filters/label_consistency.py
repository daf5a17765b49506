"""Label consistency: a classifier trained on the real records must read the draft as the label it
was asked for (synth/judge.py)."""

from synth.filters import DraftFilter
from synth.judge import LabelJudge


class LabelConsistency(DraftFilter):
    name = "label_consistency"
    order = 40

    def __init__(self, judge: LabelJudge, label_field: str):
        self.judge, self.label_field = judge, label_field

    @classmethod
    def for_job(cls, ctx):
        view = ctx.view
        if not (ctx.request.label_check and view.label_field):
            return None
        judge = LabelJudge.fit(view.texts(), [r.get(view.label_field) for r in view.records],
                               ratio=ctx.request.label_agreement, seed=ctx.request.seed)
        return cls(judge, view.label_field) if judge else None

    def reason(self, texts, task):
        label = task.conditions.get(self.label_field)
        if label is not None and not self.judge.agrees(" ".join(texts), label):
            return "label_inconsistent"
        return None


FILTER = LabelConsistency

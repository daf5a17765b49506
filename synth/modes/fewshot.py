"""fewshot: new records in the style of k scrubbed examples from the training split, rotating so
that no example set repeats; conditions (label, kind) follow the input's own distribution exactly
(largest remainder, synth/modes/common.py `_anchors`)."""

from synth.modes import Mode
from synth.modes.common import fewshot_messages, plan_examples, record_reply


class FewShot(Mode):
    name = "fewshot"
    selects_candidates = True
    templates = ("system", "record_request")

    def plan(self, ctx):
        return plan_examples(ctx, list(range(len(ctx.view.records))))

    def produce(self, task, ctx, generate):
        return record_reply(ctx, task, generate, fewshot_messages(ctx, task))


MODE = FewShot()

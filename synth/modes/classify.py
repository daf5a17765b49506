"""classify: label-conditioned records for text classification, with a target label distribution
(balanced, as-is, or explicit weights) met exactly by the plan."""

from privacy.errors import BadInput
from synth.dataset import allocate, label_weights
from synth.modes import Mode
from synth.modes.common import fewshot_messages, plan_examples, record_reply


class Classify(Mode):
    name = "classify"
    selects_candidates = True
    templates = ("system", "record_request")
    default_label_target = "balanced"

    def plan(self, ctx):
        if not ctx.view.label_field:
            raise BadInput("classify mode needs a label field (--label-field)")
        target = ctx.request.label_target or self.default_label_target
        weights = label_weights(ctx.view, target, ctx.request.labels)
        targets = allocate(ctx.request.n, weights, ctx.rng)
        return plan_examples(ctx, list(range(len(ctx.view.records))), targets)

    def produce(self, task, ctx, generate):
        return record_reply(ctx, task, generate, fewshot_messages(ctx, task))


MODE = Classify()

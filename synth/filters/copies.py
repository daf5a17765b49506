"""Near-copies of input records (the audit's memorization check would fail them) and of earlier
outputs, by word trigrams (synth/quality.py)."""

from synth.filters import DraftFilter
from synth.quality import NearDuplicateIndex, copy_reason


class Copies(DraftFilter):
    name = "copies"
    order = 20

    def __init__(self, sources: list[str]):
        self.sources, self.outputs = NearDuplicateIndex(), NearDuplicateIndex()
        for text in sources:
            self.sources.add(text)

    @classmethod
    def for_job(cls, ctx):
        return cls(ctx.view.texts())

    def reason(self, texts, task):
        return copy_reason(" ".join(texts), self.sources, self.outputs)

    def keep(self, texts):
        self.outputs.add(" ".join(texts))


FILTER = Copies

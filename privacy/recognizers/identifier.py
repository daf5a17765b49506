"""Other personal identifiers after their label: national, employee, licence and tax IDs."""

from privacy.recognizers import register
from privacy.recognizers.labelled import LabelledValueRecognizer


@register
class LabelledIdRecognizer(LabelledValueRecognizer):
    ENTITY = "ID"
    LABELS = (r"(?:national|employee|staff|student|tax|personal|citizen|voter)\s+(?:id|number|no\.?|#)"
              r"|driver'?s?\s+licen[cs]e(?:\s+(?:number|no\.?|#))?|licen[cs]e\s+(?:number|no\.?|#)"
              r"|social\s+security(?:\s+(?:number|no\.?|#))?|ssn|ni\s+number|national\s+insurance(?:\s+number)?"
              r"|tin|dni|nie|nif|personalausweis(?:nummer)?|steuer-?id|id\s+(?:card|number|no\.?)")

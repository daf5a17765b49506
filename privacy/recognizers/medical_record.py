"""Medical record and patient numbers after their label (MRN, chart no., patient ID, NHS no.)."""

from privacy.recognizers import register
from privacy.recognizers.labelled import LabelledValueRecognizer


@register
class MedicalRecordNumberRecognizer(LabelledValueRecognizer):
    ENTITY = "MEDICAL_RECORD_NUMBER"
    LABELS = (r"mrn|m\.r\.n\.|medical\s+record(?:\s+(?:number|no\.?|#))?|patient\s+(?:id|number|no\.?|#)"
              r"|chart\s+(?:number|no\.?|#)|chart|hospital\s+(?:number|no\.?)|record\s+(?:number|no\.?|#)"
              r"|case\s+(?:number|no\.?)|patientennummer|n°\s+de\s+dossier|historia\s+cl[ií]nica")

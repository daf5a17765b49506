"""Bank, customer, policy, member and claim numbers after their label."""

from privacy.recognizers import register
from privacy.recognizers.labelled import LabelledValueRecognizer


@register
class AccountNumberRecognizer(LabelledValueRecognizer):
    ENTITY = "ACCOUNT_NUMBER"
    LABELS = (r"account(?:\s+(?:number|no\.?|#))?|acct\.?|a/c|customer\s+(?:id|number|no\.?|#)"
              r"|member(?:ship)?\s+(?:id|number|no\.?|#)|policy(?:\s+(?:number|no\.?|#))?"
              r"|claim(?:\s+(?:number|no\.?|#))?|contract\s+(?:number|no\.?)|sort\s+code"
              r"|routing\s+(?:number|no\.?)|kontonummer|kundennummer|versicherungsnummer"
              r"|num[eé]ro\s+de\s+(?:compte|client|contrat)|n[uú]mero\s+de\s+(?:cuenta|cliente|p[oó]liza)")

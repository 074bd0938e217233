"""Field knowledge: a recognised field's text becomes its normalised value, with the issues found in it.

One module per kind of knowledge (dates, closed lists, names, numbers, places); `knowledge.py` picks the
reader and the decoding constraint for each template field from its type, format and lexicon, and checks
a record's fields against each other (a date in words against the same date in digits, an age against a
birth date). Every disagreement is a `FieldIssue` whose code is listed in `issues.ISSUES`.
"""

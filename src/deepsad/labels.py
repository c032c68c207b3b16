"""Semi-supervised label values with the meaning of the Deep SAD paper."""

NORMAL = 1
"""A sample an expert has confirmed as normal."""

UNLABELED = 0
"""A sample nobody has labeled (mostly normal, possibly polluted)."""

ANOMALY = -1
"""A sample an expert has confirmed as anomalous."""

LABEL_VALUES = (NORMAL, UNLABELED, ANOMALY)

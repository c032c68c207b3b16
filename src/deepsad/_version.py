__version__ = "0.3.0"

# Model files record the format version. 2: the checksum covers the JSON metadata and the tensors;
# 1 (deepsad 0.1.0): the tensors only. Both are read (deepsad.models.persistence); others are refused.
MODEL_FORMAT_VERSION = 2

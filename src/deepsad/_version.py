__version__ = "0.2.0"

# Model files record the format version; files with a different major format are refused.
MODEL_FORMAT_VERSION = 1

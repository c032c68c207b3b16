"""Data: the data sets' descriptors, official file formats, downloads, splits and scenarios."""

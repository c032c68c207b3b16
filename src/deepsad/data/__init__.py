"""Data: readers for official formats, downloads, preprocessing, splits and scenarios."""

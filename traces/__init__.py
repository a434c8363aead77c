"""Trace formats, exporters and visualisation (memory traces arrive with the memory issue)."""

"""The layout stage: preprocess a page image, identify its template, register it, cut every field."""

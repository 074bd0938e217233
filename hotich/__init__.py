"""hotich-ocr: reads handwritten Vietnamese civil-registry books."""

__version__ = "0.1.0"

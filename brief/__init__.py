"""The monthly PDF brief: trend tables → charts and HTML/CSS templates → PDF (WeasyPrint)."""

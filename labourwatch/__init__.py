"""labourwatch: measures how AI is changing the labour market, from job postings."""

__version__ = "0.1.0"

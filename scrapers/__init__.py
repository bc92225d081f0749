"""Scrapy project: settings, items, thin spiders, pure parsers and pipelines."""

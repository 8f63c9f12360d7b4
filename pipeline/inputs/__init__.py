"""Offline inputs: saved pages and WARC files -> Page, legacy dumps -> Article, the
extraction worker pool and the ingest loop that runs pages through the stages.

May import: the ground floor, extract, normalize and store.
"""

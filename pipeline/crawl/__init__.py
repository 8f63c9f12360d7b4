"""The Scrapy side: spider support (listings), downloader middlewares (politeness,
incremental crawling, WARC recording), the item pipelines that adapt Scrapy to the
stages, the process runner and the offline demo site.

May import: the ground floor (items, sources, errors, runstats), extract, normalize,
store and inputs.workers. Spiders import only ``listings`` from here.
"""

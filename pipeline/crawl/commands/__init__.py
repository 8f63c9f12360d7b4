"""Scrapy commands of this project (``COMMANDS_MODULE``): ``scrapy crawl`` with
broadsheet's checks and exit status."""

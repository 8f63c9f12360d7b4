"""Normalize: an extracted Article -> the Article as stored and its markdown file.

``stage`` is the step (canonical URL, clean body, title, summary, word count, the
rendered file); ``layout`` the layout keys (``layout.toml``); ``front_matter`` the
front matter of an article; ``emitter`` the YAML writer; ``links`` and ``markdown``
the markdown safety net; ``render`` the whole file. Pure: no I/O but reading the
layout file.

May import: the ground floor only.
"""

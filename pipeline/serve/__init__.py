"""Datasette: the packaged metadata, the serve command's helpers and ``stats``.

May import: the ground floor and store.schema.
"""

"""Reading the output: Datasette (the packaged metadata with its dashboard, the serve
command's helpers, the ``plugin`` package Datasette loads, and ``public/public.py``,
loaded when serving in public), ``stats``, and the Hugo site config of
``broadsheet site`` (``hugosite``).

May import: the ground floor and store.schema.
"""

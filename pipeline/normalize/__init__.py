"""Article -> cleaned Article + markdown text: layout, front matter, markdown safety.
Pure: no I/O but reading the layout file.

May import: the ground floor only.
"""

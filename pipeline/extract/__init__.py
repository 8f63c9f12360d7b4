"""Page -> Article: decoding, metadata, titles, dates, bylines, the body, page kinds.

May import: the ground floor only (items, sources, errors, wordcount).
"""

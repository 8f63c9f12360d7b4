"""The only writer: schema, deduplication (canonical URLs, hashes, MinHash), paths of
the markdown files, the output lock and drift between tree and database.

May import: the ground floor and normalize (to render a row back to markdown).
"""

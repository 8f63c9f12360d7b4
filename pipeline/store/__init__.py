"""The store, the only writer of the database and the markdown tree: schema, the
decision new / updated / duplicate (canonical URLs, content hashes, MinHash
signatures), paths of the markdown files, the output lock, drift between tree and
database. Takes normalized articles; writes feed state, crawl rows and aliases too.

May import: the ground floor and normalize (to render a row back to markdown).
"""

"""Beyond one machine: the Redis frontier shared by crawlers, the queues, the single
loader that drains them into the store and the fan-out extraction workers.

May import: every stage; nothing imports it but the CLI and the settings.
"""

"""Beyond one machine: the Redis frontier shared by crawlers, the queues, the single
loader that drains them into the store and the fan-out extraction workers. What comes
from Redis is data only (JSON, checked); credentials come from the environment.

May import: every stage; nothing imports it but the CLI and the settings.
"""

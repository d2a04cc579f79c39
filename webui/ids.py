"""The largest id a route accepts.

Ids are 32-bit integers on PostgreSQL (and bounded on SQLite): routes declare
``<int(max=MAX_ID)>`` so that a larger number answers 404 like any other unknown id, instead of
overflowing the database's integer and answering 500.
"""

MAX_ID = 2**31 - 1

"""Writes to the race data, one module a job: the Hong Kong import and its staff uploads, the
generic upsert, provider syncs and their results."""

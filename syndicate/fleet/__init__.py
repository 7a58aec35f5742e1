"""Several replicas acting as one: shared rate limits, a fleet-wide replay filter, admin writes broadcast.

Nothing here is on a request's path: requests read local state, and background
tasks keep it in step with the shared PostgreSQL store (docs/deploy.md).
"""

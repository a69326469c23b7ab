"""Read models for the dashboard and the API: scoped queries that return ``Table``s.

Only reading lives here; every change goes through the domain services.
"""

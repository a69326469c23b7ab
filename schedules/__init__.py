"""Scheduled work: periodic sweeps, digests and rankings, driven by the injected clock.

Feature modules register jobs with ``schedules.registry``; ``schedules.runner`` runs the
ones that are due (APScheduler triggers compute the times; the real-time driver is APScheduler).
"""

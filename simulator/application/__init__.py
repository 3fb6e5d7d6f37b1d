"""Application services: each use case loads state, calls the domain, stores what changed.

They take a :class:`~simulator.application.context.Context` and plain values, and
return domain objects; the HTTP adapter translates both ways.
"""

"""The simulator's domain: plain Python, standard library only.

Nothing in this package does I/O or imports Flask, SQLAlchemy or httpx; time comes
from a :class:`~simulator.domain.clock.Clock` passed in by the caller.
"""

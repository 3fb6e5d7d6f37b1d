"""The simulator's domain: plain Python, standard library only.

Nothing in this package does I/O or imports Flask, SQLAlchemy or httpx; time comes
from a :class:`~simulator.domain.clock.Clock` passed in by the caller. The order state
machine it plays is shared with the certification suite and lives in :mod:`contracts.model`,
the one package of ours the domain may import.
"""

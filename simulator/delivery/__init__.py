"""KCI delivery: the outbox dispatcher and the transport that posts KCIs to the gateway.

Composition code wires them: ``KciDispatcher(database, HttpTransport(url, auth), RealClock(), ...)``.
The retry rules themselves are pure and live in :mod:`simulator.domain.retry`.
"""

from simulator.delivery.dispatcher import DispatchReport, KciDispatcher
from simulator.delivery.transport import (
    BasicAuth,
    BearerToken,
    ClientCredentials,
    HttpTransport,
    KciTransport,
    NoAuth,
    TransportResult,
)

__all__ = [
    "BasicAuth",
    "BearerToken",
    "ClientCredentials",
    "DispatchReport",
    "HttpTransport",
    "KciDispatcher",
    "KciTransport",
    "NoAuth",
    "TransportResult",
]

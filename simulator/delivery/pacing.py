"""How the dispatcher sends a group of KCIs: in turn on its own thread, or in parallel.

Neither is always faster. A gateway far away answers in tens of milliseconds, and KCIs in
flight together hide that wait. A gateway on the same machine answers in well under a
millisecond, and then handing each send to a pool thread costs more CPU (and interpreter
lock hand-offs) than the wait it hides: in turn is about twice as fast. :class:`Pacing`
measures both ways on the gateway at hand and keeps to the cheaper one.
"""

from __future__ import annotations

from typing import Final

#: Every this many groups, the way that is not in use is tried again (the gateway may have changed).
PROBE_EVERY: Final = 16
#: Weight of the newest group in a way's moving cost.
WEIGHT: Final = 0.3
#: A group going in turn that costs more than this many times the parallel cost is cut short.
CUT_SHORT: Final = 2.0


class Pacing:
    """The cost per KCI of each way, as moving averages over the groups sent that way.

    Parallel first (the safe guess: a gateway that answers slowly would hold one KCI at a
    time up), then in turn once, then whichever costs less, trying the other every
    :data:`PROBE_EVERY` groups. A group in turn is cut short (the rest go in parallel) as
    soon as it costs clearly more than parallel does, so a try at a slow gateway costs one send.
    """

    def __init__(self, probe_every: int = PROBE_EVERY) -> None:
        self._cost: dict[bool, float] = {}  # in turn (True) or in parallel (False): seconds per KCI
        self._probe_every = max(2, probe_every)
        self._groups = 0

    def in_turn(self) -> bool:
        """Whether the next group goes in turn."""
        self._groups += 1
        if False not in self._cost:
            return False
        if True not in self._cost:
            return True
        cheaper = self._cost[True] <= self._cost[False]
        return not cheaper if self._groups % self._probe_every == 0 else cheaper

    def note(self, in_turn: bool, seconds: float, sent: int) -> None:
        """A group of ``sent`` KCIs went out ``in_turn`` (or not) in ``seconds``."""
        if sent <= 0:
            return
        cost = seconds / sent
        old = self._cost.get(in_turn)
        self._cost[in_turn] = cost if old is None else old + (cost - old) * WEIGHT

    def cut_short(self, seconds: float, sent: int) -> bool:
        """Whether a group going in turn, ``sent`` KCIs in ``seconds`` so far, should stop here."""
        parallel = self._cost.get(False)
        return parallel is not None and sent > 0 and seconds / sent > CUT_SHORT * parallel

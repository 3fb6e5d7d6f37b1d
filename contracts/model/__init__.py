"""The model the simulator and the certification suite share: plain Python, standard library only.

:mod:`contracts.model.order_states` holds the order and KCI state machine and the reason-code
rules. Neither side owns it: ``simulator.domain`` plays it, ``contracts.certification`` judges a
supplier's KCI stream by it. Nothing here does I/O or imports anything outside the standard
library (import-linter enforces it).
"""

"""fibresim: a fake fibre supplier for the Fibre Gateway Supplier API."""

__version__ = "0.1.0"

"""Ticketline: an open-source call center for ticketing businesses."""

__version__ = "0.1.0"

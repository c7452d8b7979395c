"""Shared kernel: clock, ids and codes, money, errors, the event bus, paging.

Imports nothing else of Ticketline, so every other package may depend on it.
"""

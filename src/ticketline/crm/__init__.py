"""Customers, contact timeline, VIP tiers, loyalty ledger, greetings."""

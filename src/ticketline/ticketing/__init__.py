"""Catalog, fares, seat inventory, orders, payments, change and refund, finance."""

"""Queues, routing strategies, agent states, the router, wait estimates, the queue log."""

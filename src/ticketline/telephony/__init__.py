"""Asyncio transports, registrar, trunks, calls and legs, the B2BUA, the call-control API, CDRs."""

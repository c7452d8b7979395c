"""SIP as data: messages, URIs, headers, SDP, digest auth, transactions, dialogs.

Sans-IO: no sockets, no clocks, no asyncio.
"""

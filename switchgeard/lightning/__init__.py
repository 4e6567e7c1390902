"""Talking to Lightning nodes (LND, Core Lightning) and translating their errors and types.

grpclib and betterproto2 stay inside this package; nothing above it sees asyncio.
"""

"""The admin API: HTTP+JSON on a Unix socket, and its wire contract.

``protocol`` is standard-library only and shared with ``switchgear-ctl``; ``app`` builds the
quart-trio application. This module imports nothing, so importing ``protocol`` stays cheap.
"""

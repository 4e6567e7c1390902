"""switchgear-ctl: the operator CLI, speaking HTTP+JSON to the daemon's admin socket.

Imports only ``admin.protocol``, ``errors``, ``units`` and the standard library at start-up
(rich is loaded only for terminal output, segno and tomli-w only by the commands using them).
"""

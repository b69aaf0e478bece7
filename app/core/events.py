"""Named signals (blinker) that services send when something others may react to has happened.

A service sends an event and does not know who listens, so it need not import the listener: the
notifications service subscribes to what it turns into notifications, and create_app connects
the two once. Receivers run at once, in the sender's transaction (nothing is queued), so what
they write is committed or rolled back with the change that caused it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the evidence item as sender and `actor=` the User who shared it, when an item is first
# shared (created shared, or a private draft shared later).
evidence_shared = _signals.signal("evidence-shared")

# Sent with the cycle as sender, `actor=` the User who did it and `phase=` the CyclePhase that
# opened, when a cycle is opened (in nominations) or moved forward. Send it after the phase's due
# date is stored: listeners read it (the Slack channel announcement says when it is due).
phase_opened = _signals.signal("phase-opened")

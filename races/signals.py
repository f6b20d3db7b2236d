"""Signals the races app sends, for the apps that build on it.

Django signals are the documented way to tell a decoupled app of a change: races does not know
who listens (predictions refreshes the changed cards' predictions). Receivers hold no logic; each
calls one service of its own app.
"""

import django.dispatch

# Sent with `race_ids` (sorted primary keys) once the transaction that stored a provider's cards
# for those races commits.
race_cards_changed = django.dispatch.Signal()

# Sent once the transaction of a provider sync or a Hong Kong import that stored cards or
# results commits. It names no races: a sync's results may settle races beyond its cards and an
# import writes in bulk, so receivers look for what concerns them.
race_data_stored = django.dispatch.Signal()

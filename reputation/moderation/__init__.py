"""Flags, the review queue and the public moderation record (issue 21).

Members flag items of the kinds that apps register in peerhub.moderation; each flag weighs by
its flagger's trust level and record (rules.flag_weight); an item whose flags pass the threshold
is hidden pending review. Members at the moderation trust level and staff decide in the review
queue; decisions feed back into the flaggers' records and, for confirmed spam or abuse, into the
author's reputation (facts.py, lines in the ledger like any fact's). Writes in services.py,
reads in selectors.py."""

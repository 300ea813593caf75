"""Campaigns: announcements to opted-in residents through one outbox.

`service` creates and steers campaigns (states, audience, who may send where), `outbox`
owns the rows (materialising recipients, claiming, marking, resuming), `sender` owns the
policy (pacing, retry_after, backoff, blocked recipients, pausing on errors).
"""

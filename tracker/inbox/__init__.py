"""Needs your action: the inbox per role, late work, the dashboard strip, bulk submit and approve."""

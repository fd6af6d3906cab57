"""Reminders by e-mail: the weekly digest of each person's "Needs your action" items
(``flask --app tracker remind``). The immediate notices live in tracker/notices.py."""

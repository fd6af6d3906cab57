"""Administration: users (create, deactivate, reactivate, set a password) and projects."""

"""The rules of case management, pure: vocabulary, roles and permissions, eligibility, service
rules, calendar rules and the reminder plan.

Standard library only. Nothing of ours is imported here, so the rules can be read, tested and
reused without Telegram, a database or a catalog (tests/unit/ runs them in milliseconds).
"""

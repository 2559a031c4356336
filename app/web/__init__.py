"""Pages for people, in Vietnamese, server-rendered at the site root (contract, Web interface).

The pages call the same services as the API (app.reports, app.investigations,
app.notifications, app.stats): same rules, same notifications, same idempotency. A person logs in
with a password and acts with their organisation's role; API keys and sessions never mix.
"""

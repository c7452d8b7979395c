"""Message templates, the outbox, SMS gateways, voice notifications."""

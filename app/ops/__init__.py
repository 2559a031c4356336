"""Running tnld for real: metrics, structured logs, readiness, the worker's heartbeat,
housekeeping, backups (CONTRACT.md, Operations)."""

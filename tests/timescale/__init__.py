"""The TimescaleDB lane; ``rollup_cases`` is shared with the PostgreSQL lane."""

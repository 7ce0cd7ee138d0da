"""Decision math on arrays: lag-corrected CPA, rules, pacing and backtests (no Flask, no database)."""

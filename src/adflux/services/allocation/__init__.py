"""Budget allocation between a campaign's ad groups, its log, and the off-policy comparison."""

"""Business logic: keyword-only functions that own the transaction and raise domain errors."""

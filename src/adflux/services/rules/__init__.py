"""Rules (automated actions) and pacing: storing them, evaluating them on the metrics, acting."""

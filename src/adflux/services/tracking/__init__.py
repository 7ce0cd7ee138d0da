"""First-hand measurement: tracking links and clicks, the portal's application postbacks,
attribution, retention and erasure (Ley 1581 de 2012)."""

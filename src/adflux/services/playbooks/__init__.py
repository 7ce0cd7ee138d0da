"""Playbooks: campaign policies a marketing manager writes once (`registry`), the conditions and
budget formulas they use (`policy`), and what they would do with an opening (`planning`)."""

"""Job feeds: where the portal's openings come from, read on a schedule and followed by campaigns.

`registry` keeps the feeds, `runs` reads one (fetching → records → diffing), and the campaign
loop (`services.feed_campaigns`) follows the openings that moved.
"""

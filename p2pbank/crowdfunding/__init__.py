"""Crowdfunding: campaigns, reward tiers, pledges charged only on success, settlement at
the deadline, updates and comments, and crowdlending with the EU 2020/1503 safeguards."""

"""Public questions and answers on listings and campaigns: any member asks, only the
borrower or initiator answers, and how fast they answer is part of their record."""

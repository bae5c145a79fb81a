"""Votes, reviews, the reputation ledger, trust levels and fitness (DESIGN.md, ideas 4 and 6)."""

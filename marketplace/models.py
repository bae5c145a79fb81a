"""Plans, offers, orders, payments and the double-entry ledger (DESIGN.md, Revenue)."""

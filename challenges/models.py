"""Challenges, solutions, revisions, forks and lineage (see DESIGN.md, ideas 1, 2, 3 and 5)."""

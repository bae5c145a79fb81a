"""The REST API twins of the challenges pages: challenges, proposals, solutions (with revisions,
diffs, forks and lineage), upstream proposals and comments.

Views parse with a serializer, call one service or selector and answer; who may see what comes
from `challenges.permissions` and `challenges.selectors`, so the API and the pages agree. What a
member may not see is a 404, never a 403."""

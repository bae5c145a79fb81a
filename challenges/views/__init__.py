"""HTML views: parse the request, call one service or selector, render or redirect. Domain
errors become messages or form errors; what a member may not see is a 404."""

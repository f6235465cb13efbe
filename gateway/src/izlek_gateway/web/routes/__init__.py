"""One router per page: sign-in, dashboard, the liaison's and the cooperative's pages, audit."""

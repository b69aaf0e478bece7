"""Comments, kudos and corroboration on evidence; notifications; the manager's team page."""

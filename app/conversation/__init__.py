"""The conversation on an evidence item: comments, kudos and corroboration."""

"""1:1s: a pair's space, its meetings with a shared agenda, notes and action items."""

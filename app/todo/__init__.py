"""The to-do list's pages: all of a person's tasks, and the head of product's "who has not done
their task yet" per phase of a cycle, with nudges."""

"""People administration for the head of product, and profiles for everyone allowed to see them."""

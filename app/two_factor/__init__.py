"""Two-factor sign-in pages: one's own setup, the second step of signing in, and the head of
product's requirement and reset."""

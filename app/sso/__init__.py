"""Single sign-on: signing in through the company's OpenID provider, and the head of product's
Sign-in settings."""

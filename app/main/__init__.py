"""The home page each person lands on."""

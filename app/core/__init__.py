"""What every layer may use and that uses nothing of theirs: domain errors, signals."""

"""Your settings: the time zone every date and time is shown in."""

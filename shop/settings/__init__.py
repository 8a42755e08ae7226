"""Settings: ``base`` is read from the environment for every deployment; ``test`` adds test defaults."""

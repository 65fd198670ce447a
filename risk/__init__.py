"""Risk control (风控体系): the rule library, detection, and the closed loop of events."""

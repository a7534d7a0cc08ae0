"""Rules, the alert state machine, escalation, maintenance windows and inhibition."""

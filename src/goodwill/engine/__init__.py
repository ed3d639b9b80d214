"""The engine: reads new events, derives touch points, runs the periodic scans and applies the
playbook. Every effect is an idempotent write, so a crash or a second worker never duplicates or
loses work."""

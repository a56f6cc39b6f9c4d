"""Implementations of the application's ports: memory, SQL, Stripe, JWT, argon2."""

"""The shop's vocabulary and rules: users, products, orders, money; standard library only."""

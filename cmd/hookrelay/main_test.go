package main

// Passwords hashed through the run path (admin bootstrap, create-user)
// use the cheapest bcrypt cost in tests; cost itself is relay's business.
func init() { bcryptCost = 4 }

"""What sellers integrate against: signed results and, later, signed requests and webhooks."""

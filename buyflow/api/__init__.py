"""The JSON API for sellers, versioned under /api/v1."""

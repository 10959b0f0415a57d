"""The buy flow: the pages shown in the iframe on the seller's site, and their JSON calls."""

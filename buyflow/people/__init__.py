"""People: who may do what at a seller (roles), who runs the service (operators), who
may not come in (bans, the blacklist), how sellers and their teams are made (sign-up,
invitations, memberships)."""

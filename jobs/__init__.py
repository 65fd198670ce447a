"""Jobs that orchestrate the layers below: schema set-up (`init-db`), demo seeding, imports."""

"""The guest store: schema, migrations, field encryption and the repositories over them."""

"""The dashboard's data layer: no Flask here, so it is tested and reused on its own."""

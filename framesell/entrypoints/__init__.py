"""The ways into the shop: the HTTP API (Pyramid + Cornice) and the ``framesell`` command."""

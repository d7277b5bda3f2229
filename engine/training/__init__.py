"""Training the networks: the P2R / V2P trainer, the landmark V2P trainer, which data may be used."""

"""The model catalog: which models Ponder offers, their variants per provider, chat formats and
sampling. The data lives in resources/catalog/models.json."""

"""GS1 EPCIS 2.0: what a cooperative did, as JSON-LD events (vocabulary, event building, hashing, documents, query)."""

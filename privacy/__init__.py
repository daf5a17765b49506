"""Privacy stage: detect PII with Presidio and anonymize it, with a manifest of keyed fingerprints."""

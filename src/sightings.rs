//! STIX 2.1 sighting feedback: hits aggregated per indicator into `sighting` objects.

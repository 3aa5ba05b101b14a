//! STIX 2.1 bundles and TAXII envelopes (to be written).

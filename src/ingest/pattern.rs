//! STIX 2.1 patterning: the exact-match subset trawl compiles (to be written).

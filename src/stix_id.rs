//! Stable ids for the STIX domain objects trawl writes (exported indicators, sightings,
//! observed-data, the sharing identity): the same name gives the same id on every run, so a
//! re-export or a re-run updates objects instead of duplicating them. STIX 2.1 §2.9 asks for
//! UUIDv4 in SDO and SRO ids (UUIDv5 is for SCOs, with the STIX namespace), so the id is a
//! keyed blake3 hash of the name in the UUIDv4 layout: stable, and clean for validators.

use uuid::Uuid;

/// The UUID for the object named `name` (any bytes that identify it).
pub fn stable(name: &[u8]) -> Uuid {
    let hash = blake3::keyed_hash(b"trawl stix export ids, version 1", name);
    let bytes: [u8; 16] = hash.as_bytes()[..16].try_into().expect("16 of 32 bytes");
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_version_4_and_depend_on_the_name_only() {
        let a = stable(b"sighting x");
        assert_eq!(a, stable(b"sighting x"));
        assert_ne!(a, stable(b"sighting y"));
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
    }
}

//! Stable ids for the STIX domain objects trawl writes (exported indicators, sightings,
//! observed-data, the sharing identity): the same name gives the same id on every run, so a
//! re-export or a re-run updates objects instead of duplicating them. STIX 2.1 §2.9 asks for
//! UUIDv4 in SDO and SRO ids (UUIDv5 is for SCOs, with the STIX namespace), so the id is a
//! keyed blake3 hash of the name in the UUIDv4 layout: stable, and clean for validators.
//!
//! Also the nine fixed TLP marking-definition ids of STIX 2.1 §7.2.1.4 (TLP 1.0) and of the
//! TLP 2.0 extension, read and written by the STIX reader, the STIX export and sightings.

use uuid::Uuid;

use super::model::Tlp;

/// The UUID for the object named `name` (any bytes that identify it).
pub(crate) fn stable(name: &[u8]) -> Uuid {
    let hash = blake3::keyed_hash(b"trawl stix export ids, version 1", name);
    let bytes: [u8; 16] = hash.as_bytes()[..16].try_into().expect("16 of 32 bytes");
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The nine TLP marking-definition ids fixed by STIX 2.1 §7.2.1.4 (TLP 1.0) and the TLP 2.0
/// extension (`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`). TLP 1.0 WHITE
/// reads as [`Tlp::Clear`].
pub(crate) const TLP_MARKINGS: [(&str, Tlp); 9] = [
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Clear,
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        Tlp::Green,
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Amber,
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        Tlp::Red,
    ),
    (
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Clear,
    ),
    (
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Green,
    ),
    (
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::Amber,
    ),
    (
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::AmberStrict,
    ),
    (
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        Tlp::Red,
    ),
];

/// The TLP level of one of the nine fixed TLP marking-definition ids ([`TLP_MARKINGS`]).
pub(crate) fn tlp_for_marking_id(id: &str) -> Option<Tlp> {
    TLP_MARKINGS
        .iter()
        .find(|(known, _)| *known == id)
        .map(|&(_, tlp)| tlp)
}

/// The fixed marking-definition id of a TLP level in TLP 1.0 (`v2 == false`; none for
/// AMBER+STRICT, which TLP 1.0 lacks) or TLP 2.0 — entries of [`TLP_MARKINGS`].
pub(crate) fn tlp_marking(tlp: Tlp, v2: bool) -> Option<&'static str> {
    let i = match (v2, tlp) {
        (false, Tlp::Clear) => 0,
        (false, Tlp::Green) => 1,
        (false, Tlp::Amber) => 2,
        (false, Tlp::Red) => 3,
        (false, Tlp::AmberStrict) => return None,
        (true, Tlp::Clear) => 4,
        (true, Tlp::Green) => 5,
        (true, Tlp::Amber) => 6,
        (true, Tlp::AmberStrict) => 7,
        (true, Tlp::Red) => 8,
    };
    Some(TLP_MARKINGS[i].0)
}

/// The marking-definition id to write for a TLP level: the TLP 1.0 id (STIX 2.1 §7.2.1.4,
/// which every STIX 2.1 consumer knows) where TLP 1.0 has the level, the TLP 2.0 id for
/// AMBER+STRICT. [`tlp_for_marking_id`] reads it back as the same level.
pub(crate) fn marking_for_tlp(tlp: Tlp) -> &'static str {
    tlp_marking(tlp, false)
        .or_else(|| tlp_marking(tlp, true))
        .expect("every level has a TLP 2.0 id")
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

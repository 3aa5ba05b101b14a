//! The names a server certificate is for: the subject's common names and the `dNSName` entries
//! of its subjectAltName extension (RFC 5280 §4.1.2.6, §4.2.1.6), read from the DER of one
//! certificate of a TLS Certificate message ([`super::tls::certificates`]).
//!
//! Parsing is done by `x509-parser` (Rusticata's, the one Suricata uses): X.509 is a large
//! ASN.1 grammar better left to a well-fuzzed parser than written again. Its fingerprints are
//! digests of the DER bytes as sent and need no parsing ([`super::tls_fingerprint`]).

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::indicators::field::Field;

/// Reason: a certificate that is not a readable X.509 certificate (its names are not read; its
/// fingerprints still are).
pub const E_CERTIFICATE: &str = "x509: bad certificate";
/// Reason: a subjectAltName extension that cannot be read (the subject's names still are).
pub const E_SAN: &str = "x509: bad subject alternative name";

/// Reports the subject common names ([`Field::X509SubjectCn`], as encoded: a `TeletexString` or
/// `BMPString` one is passed as its bytes and will match no name) and the subjectAltName DNS
/// names ([`Field::X509San`]) of the DER certificate `der`, in that order.
pub fn names(der: &[u8], out: &mut dyn FnMut(Field, &[u8])) -> Result<(), &'static str> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| E_CERTIFICATE)?;
    for cn in cert.subject().iter_common_name() {
        out(Field::X509SubjectCn, cn.as_slice());
    }
    let san = cert.subject_alternative_name().map_err(|_| E_SAN)?;
    for name in san.iter().flat_map(|ext| &ext.value.general_names) {
        if let GeneralName::DNSName(n) = name {
            out(Field::X509San, n.as_bytes());
        }
    }
    Ok(())
}

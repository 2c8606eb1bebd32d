pub const RECORDS_HAVE_NAMES: &[u8; 2] = b"RN";
pub const ALIGNMENT_STARTS_ARE_DELTAS: &[u8; 2] = b"AP";
pub const EXTERNAL_REFERENCE_SEQUENCE_IS_REQUIRED: &[u8; 2] = b"RR";
pub const SUBSTITUTION_MATRIX: &[u8; 2] = b"SM";
pub const TAG_SETS: &[u8; 2] = b"TD";

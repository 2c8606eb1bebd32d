use super::{Encoding, encoding::codec::ByteArray};
use crate::container::block;

// genoa patch: ordered, so the compression header is the same bytes in every run.
pub type TagEncodings = std::collections::BTreeMap<block::ContentId, Encoding<ByteArray>>;

//! Names, symbols and assets as the strings nodeos prints and parses (`alice`, `4,BIT`,
//! `10.0000 BIT`), so JSON rows and requests read and write them directly.

use alloc::string::String;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Asset, Name, Symbol};

macro_rules! serde_as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
serde_as_text!(Name, Symbol, Asset);

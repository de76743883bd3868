//! `abi_struct!`: declares a struct once and derives from that single declaration its binary
//! codec and its ABI description, so the codec and the ABI cannot drift apart.

/// Declares a struct with `Pack` (fields in declaration order) and `AbiStruct` (ABI name, fields).
macro_rules! abi_struct {
    (
        $(#[$meta:meta])*
        pub struct $ty:ident as $abi:literal {
            $( $(#[$fmeta:meta])* pub $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            $( $(#[$fmeta])* pub $field: $fty ),*
        }

        impl $crate::codec::Pack for $ty {
            fn pack(&self, out: &mut alloc::vec::Vec<u8>) {
                $( $crate::codec::Pack::pack(&self.$field, out); )*
            }
            fn unpack(reader: &mut $crate::codec::Reader<'_>) -> $crate::error::Result<Self> {
                Ok($ty {
                    $( $field: $crate::codec::Pack::unpack(reader)? ),*
                })
            }
        }

        impl $crate::abi::AbiStruct for $ty {
            const NAME: &'static str = $abi;
            fn fields() -> alloc::vec::Vec<$crate::abi::AbiField> {
                alloc::vec![
                    $( $crate::abi::AbiField {
                        name: stringify!($field),
                        ty: <$fty as $crate::abi::AbiType>::abi_type(),
                    } ),*
                ]
            }
        }
    };
}

/// Declares a `Row` impl: table name literal and primary-key expression.
macro_rules! row {
    ($ty:ty, $table:literal, |$row:ident| $pk:expr) => {
        impl $crate::table::Row for $ty {
            const TABLE: $crate::name::Name = $crate::name::Name::new($table);
            const TABLE_NAME: &'static str = $table;
            fn primary_key(&self) -> u64 {
                let $row = self;
                $pk
            }
        }
    };
}

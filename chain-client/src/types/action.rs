//! Actions and the permissions that authorize them.

use super::name::Name;
use super::pack::{Bytes, Pack};

/// `actor@permission`: who authorizes an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PermissionLevel {
    /// The authorizing account.
    pub actor: Name,
    /// Its permission, usually `active`.
    pub permission: Name,
}

impl PermissionLevel {
    /// `actor@active`, the usual authorization of a user action.
    pub fn active(actor: Name) -> PermissionLevel {
        PermissionLevel {
            actor,
            permission: ACTIVE,
        }
    }
}

/// The usual permission of a user action.
const ACTIVE: Name = Name::constant("active");

impl Pack for PermissionLevel {
    fn pack(&self, out: &mut Vec<u8>) {
        self.actor.pack(out);
        self.permission.pack(out);
    }
}

/// One contract call inside a transaction, with its arguments already packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// The contract account.
    pub account: Name,
    /// The action name.
    pub name: Name,
    /// Who authorizes it.
    pub authorization: Vec<PermissionLevel>,
    /// The packed action arguments.
    pub data: Vec<u8>,
}

impl Action {
    /// An action authorized by `actor@active` with `args` packed as its data.
    pub fn new<T: Pack + ?Sized>(account: Name, name: Name, actor: Name, args: &T) -> Action {
        Action {
            account,
            name,
            authorization: vec![PermissionLevel::active(actor)],
            data: args.packed(),
        }
    }
}

impl Pack for Action {
    fn pack(&self, out: &mut Vec<u8>) {
        self.account.pack(out);
        self.name.pack(out);
        self.authorization.pack(out);
        Bytes(self.data.clone()).pack(out);
    }
}
